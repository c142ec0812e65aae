#include "app/checkin_service.hpp"

#include "app/device.hpp"
#include "core/text_fold.hpp"
#include "log/log.hpp"

namespace ck {

CheckinService::CheckinService(Device& device) : device_(device) {}

CheckinContext CheckinService::context(const CredentialVerifier* verifier) const
{
    CheckinContext context;
    context.schedule = device_.schedule.get();
    context.verifier = verifier;
    context.is_revoked = [this](const Credential& c) {
        return device_.store->is_revoked(c.attendee_id, c.issue);
    };
    ClockReading clock = device_.clock.read();
    context.now = clock.now;
    context.clock_trusted = clock.trusted;
    context.refuse_when_clock_untrusted = device_.config.refuse_checkins_when_untrusted;
    return context;
}

Result<CheckinResult> CheckinService::badge(std::string_view qr_text)
{
    auto verifier = device_.verifier();
    CheckinContext context = this->context(verifier.get());
    auto admission = admit_checkin(qr_text, context);
    if (!admission) return admission.status();
    const Credential& credential = admission->credential;
    return record(context, *admission, {credential.attendee_id, "badge", "", credential.issue, {}});
}

Result<CheckinResult> CheckinService::phone(const std::string& attendee_id,
                                            const ResolvedSession& session)
{
    CheckinContext context = this->context(nullptr);
    auto admission = admit_session(context, &session);
    if (!admission) return admission.status();
    return record(context, *admission, {attendee_id, "phone", "", 0, {}});
}

Result<PhoneIdentity> CheckinService::identify(const PhoneProof& proof) const
{
    const Status not_found = Status::error(
        err::identity_not_found, "We could not find you with these details.",
        "Check them against your badge or confirmation e-mail, or ask at the registration desk.");
    PhoneIdentity identity;
    if (proof.credential) {
        auto credential = device_.verifier()->verify(*proof.credential);
        if (!credential || credential->module_id != device_.config.module.id() ||
            device_.store->is_revoked(credential->attendee_id, credential->issue)) {
            return not_found;
        }
        identity.attendee_id = credential->attendee_id;
        identity.issue = credential->issue;
        return identity;
    }
    std::string attendee_id = proof.attendee_id;
    attendee_id.erase(0, attendee_id.find_first_not_of(' '));
    attendee_id.erase(attendee_id.find_last_not_of(' ') + 1);
    const NameKeys family_name = fold_variants(proof.family_name);
    std::vector<Attendee> named;
    for (Attendee& a : device_.store->attendees_with_id_ignoring_case(attendee_id)) {
        if (same_name(fold_variants(a.family_name), family_name)) named.push_back(std::move(a));
    }
    // Two registration numbers that differ only in case, with the same family name: only
    // the one typed exactly is meant, certainly.
    if (named.size() > 1) {
        std::erase_if(named, [&](const Attendee& a) { return a.id != attendee_id; });
    }
    if (named.size() != 1) return not_found;
    identity.attendee_id = named.front().id;
    identity.issue = device_.store->current_issue(identity.attendee_id);
    return identity;
}

Result<CheckinResult> CheckinService::manual(const std::string& attendee_id,
                                             const ResolvedSession* session,
                                             const std::string& staff, const std::string& reason)
{
    if (!device_.store->attendee(attendee_id)) {
        return Status::error(err::not_found,
                             "There is no attendee " + attendee_id + " in the roster.",
                             "Import the roster, or check the registration number.");
    }
    CheckinContext context = this->context(nullptr);
    auto admission =
        admit_session(context, session, /*chosen_by_staff=*/true, /*has_reason=*/!reason.empty());
    if (!admission) return admission.status();
    return record(context, *admission, {attendee_id, "manual", staff, 0, reason}, Intent::enter);
}

Result<CheckinResult> CheckinService::exit_by_hand(const std::string& attendee_id,
                                                   const ResolvedSession* session,
                                                   std::optional<Instant> at,
                                                   const std::string& staff,
                                                   const std::string& reason)
{
    const ModuleEdition& module = device_.config.module;
    if (!module.presence()) {
        return Status::error(err::not_presence_mode,
                             "This module takes attendance by session: nobody checks out.",
                             "Void the check-in instead, if it was a mistake.");
    }
    if (!device_.store->attendee(attendee_id)) {
        return Status::error(err::not_found,
                             "There is no attendee " + attendee_id + " in the roster.",
                             "Check the registration number.");
    }
    const ClockReading clock = device_.clock.read();
    if (!at && !clock.trusted) {
        return Status::error(err::clock_not_trusted,
                             "The device clock is not confirmed, so it cannot tell the time of "
                             "this exit.",
                             "Give the time the attendee left, or set the clock first.");
    }
    const Instant when = at.value_or(clock.now);
    if (when > clock.now + std::chrono::minutes(1)) {
        return Status::error(err::malformed_request, "An exit cannot be in the future.",
                             "Give the time the attendee left, or leave it out for now.");
    }
    const Schedule& schedule = *device_.schedule;
    if (session == nullptr) session = session_still_inside(attendee_id, when);
    if (session == nullptr) session = schedule.open_session(when);
    if (session == nullptr) session = session_to_leave(schedule, when);
    if (session == nullptr) {
        return Status::error(err::no_open_session, "No session was open then.",
                             "Choose the session the attendee left.");
    }
    if (when < session->window_opens || when > session->end + std::chrono::hours(1)) {
        return Status::error(err::malformed_request,
                             "That time is not during " + session->spec->label + ".",
                             "Give a time between its check-in opening and its end.");
    }
    NewCheckin checkin =
        new_checkin({attendee_id, "manual", staff, 0, reason}, *session, when, !clock.trusted);
    checkin.decide = decider(*session, when, Intent::leave, nullptr);
    auto outcome = device_.store->record_checkin(checkin);
    if (!outcome) return outcome.status();
    return result_of(std::move(*outcome), clock.now);
}

CheckinService::Decider CheckinService::decider(const ResolvedSession& session, Instant at,
                                                Intent intent,
                                                const CheckinAdmission* admission) const
{
    const ModuleEdition& module = device_.config.module;
    Status refusal =
        admission != nullptr && admission->leaving_only ? admission->entry_refusal : Status::ok();
    return [&module, &session, at, intent,
            refusal](const std::vector<CheckinRecord>& records) -> Result<ScanDecision> {
        // The state when this scan was taken (a held one is filed after later ones).
        std::vector<PresenceScan> scans = presence_scans(records);
        std::erase_if(scans, [at](const PresenceScan& s) { return s.at > at; });
        ScanDecision d = decide_scan(module, session, scans, at, intent != Intent::scan);
        switch (intent) {
            case Intent::scan:
                if (!refusal && d.kind == ScanDecision::Kind::entry) return refusal;
                return d;
            case Intent::enter:  // staff check in someone already inside: "already"
                if (d.kind == ScanDecision::Kind::exit) d.kind = ScanDecision::Kind::double_scan;
                return d;
            case Intent::leave:
                if (d.kind != ScanDecision::Kind::exit) {
                    return Status::error(err::not_inside,
                                         "This attendee was not inside " + session.spec->label +
                                             " at " + format_local_hhmm(at, module.zone) + ".",
                                         "Check the time, or the attendee's scans.");
                }
                return d;
        }
        return d;
    };
}

const ResolvedSession* CheckinService::session_still_inside(const std::string& attendee_id,
                                                            Instant at) const
{
    const ModuleEdition& module = device_.config.module;
    if (!module.presence()) return nullptr;
    const ResolvedSession* ended = session_just_ended(*device_.schedule, at);
    if (ended == nullptr) return nullptr;
    std::vector<CheckinRecord> records = device_.store->checkins_of_attendee(attendee_id);
    std::erase_if(records, [&](const CheckinRecord& r) { return r.session_id != ended->spec->id; });
    std::vector<PresenceScan> scans = presence_scans(records);
    std::erase_if(scans, [at](const PresenceScan& s) { return s.at > at; });
    return session_presence(module, *ended, scans, at).inside ? ended : nullptr;
}

NewCheckin CheckinService::new_checkin(const Who& who, const ResolvedSession& session, Instant at,
                                       bool clock_untrusted) const
{
    NewCheckin c;
    c.module_id = device_.config.module.id();
    c.attendee_id = who.attendee_id;
    c.session_id = session.spec->id;
    c.at = at;
    c.at_text = format_rfc3339(at, device_.config.module.zone);
    c.source = who.source;
    c.late = Schedule::is_late(session, at);
    c.clock_untrusted = clock_untrusted;
    c.staff = who.staff;
    c.issue = who.issue;
    c.reason = who.reason;
    return c;
}

Result<CheckinResult> CheckinService::record(const CheckinContext& context,
                                             const CheckinAdmission& admission, const Who& who,
                                             Intent intent)
{
    if (admission.hold) return hold(context, who);
    // Out of the session that just ended, though the next one's check-in window is open.
    CheckinAdmission leaving;
    const CheckinAdmission* admitted = &admission;
    if (intent == Intent::scan && !admission.leaving_only) {
        const ResolvedSession* ended = session_still_inside(who.attendee_id, context.now);
        if (ended != nullptr && ended != admission.session) {
            leaving = admission;
            leaving.session = ended;
            leaving.leaving_only = true;
            leaving.entry_refusal = Status::error(
                err::no_open_session, "This scan was taken as leaving " + ended->spec->label + ".",
                "Scan again to enter " + admission.session->spec->label + ".");
            admitted = &leaving;
        }
    }
    NewCheckin checkin =
        new_checkin(who, *admitted->session, context.now, admitted->clock_untrusted);
    if (device_.config.module.presence()) {
        checkin.decide = decider(*admitted->session, context.now, intent, admitted);
    }
    auto outcome = device_.store->record_checkin(checkin);
    if (!outcome) {
        if (outcome.status().http_status() >= 500) {
            CK_ERROR("store", "check-in of " << checkin.attendee_id << " for " << checkin.session_id
                                             << " not recorded: " << outcome.status().message());
        }
        return outcome.status();
    }
    return result_of(std::move(*outcome), context.now);
}

CheckinResult CheckinService::result_of(CheckinOutcome outcome, Instant now) const
{
    CheckinResult result;
    result.kind = outcome.created ? CheckinResult::Kind::created : CheckinResult::Kind::already;
    result.record = std::move(outcome.record);
    result.attendee = std::move(outcome.attendee);
    result.closed_entry = std::move(outcome.closed_entry);
    const ModuleEdition& module = device_.config.module;
    if (module.presence()) {
        if (const ResolvedSession* s = device_.schedule->find(result.record.session_id)) {
            result.presence =
                session_presence(module, *s, presence_scans(outcome.session_records), now);
        }
    }
    return result;
}

// The clock is not trusted: keep the check-in with its boot stamp, to be filed under its
// session once the clock is (file_held).
Result<CheckinResult> CheckinService::hold(const CheckinContext& context, const Who& who)
{
    ClockReading clock = device_.clock.read();
    CheckinResult result;
    result.kind = CheckinResult::Kind::held;
    HeldCheckin& held = result.held;
    held.id = new_uuid();
    held.attendee_id = who.attendee_id;
    held.source = who.source;
    held.staff = who.staff;
    held.issue = who.issue;
    held.boot_id = clock.stamp.boot_id;
    held.since_boot_ms = clock.stamp.since_boot.count();
    held.device_time = format_rfc3339(context.now, device_.config.module.zone);
    // A second scan within ten minutes is told "already recorded", as on a trusted clock.
    constexpr std::int64_t kSameScanMs = 10 * 60 * 1000;
    auto outcome = device_.store->hold_checkin(held, kSameScanMs);
    if (!outcome) {
        CK_ERROR("store", "held check-in of " << who.attendee_id
                                              << " not recorded: " << outcome.status().message());
        return outcome.status();
    }
    CK_WARN("clock", "check-in of " << who.attendee_id << " held: the clock is not trusted ("
                                    << held.device_time << ")");
    result.attendee = std::move(outcome->attendee);
    if (outcome->earlier) result.kind = CheckinResult::Kind::already_held;
    return result;
}

FilingReport CheckinService::file_held()
{
    std::lock_guard lock(filing_);
    FilingReport report;
    if (!device_.clock.trusted()) return report;
    for (const HeldCheckin& held : device_.store->held_checkins()) {
        auto at =
            device_.clock.instant_of({held.boot_id, std::chrono::milliseconds(held.since_boot_ms)});
        std::string problem;
        const ResolvedSession* session = nullptr;
        if (!at) {
            problem =
                "taken before a restart, while the clock was not trusted: its time is "
                "unknown. File it by hand.";
        } else if ((session = session_still_inside(held.attendee_id, *at)) == nullptr &&
                   (session = device_.schedule->open_session(*at)) == nullptr) {
            problem = "no session was open at " + format_rfc3339(*at, device_.config.module.zone) +
                      ". File it by hand.";
        }
        if (!problem.empty()) {
            if (held.problem != problem) (void)device_.store->mark_held(held.id, problem);
            ++report.left;
            continue;
        }
        Who who{held.attendee_id, held.source, held.staff, held.issue, {}};
        NewCheckin filed = new_checkin(who, *session, *at, false);
        if (device_.config.module.presence()) {
            filed.decide = decider(*session, *at, Intent::scan, nullptr);
        }
        auto outcome = device_.store->file_held_checkin(held.id, filed, device_.actor("clock"));
        if (!outcome) {
            CK_ERROR("clock",
                     "held check-in " << held.id << " not filed: " << outcome.status().message());
            ++report.left;
            continue;
        }
        ++(outcome->created ? report.filed : report.duplicates);
        CK_INFO("clock", "held check-in of " << held.attendee_id << " filed under "
                                             << session->spec->id << " at "
                                             << outcome->record.at_text);
    }
    return report;
}

Status CheckinService::file_held_by_hand(const std::string& held_id, const std::string& session_id,
                                         const std::string& staff)
{
    const ResolvedSession* session = device_.schedule->find(session_id);
    if (session == nullptr) {
        return Status::error(err::malformed_request, "Unknown session_id.",
                             "Use a session id of this module, e.g. \"d1-am\".");
    }
    std::lock_guard lock(filing_);
    for (const HeldCheckin& held : device_.store->held_checkins()) {
        if (held.id != held_id) continue;
        // The time is the best known: the true one when this boot's clock can tell, else
        // the untrusted reading, flagged.
        auto at =
            device_.clock.instant_of({held.boot_id, std::chrono::milliseconds(held.since_boot_ms)});
        bool untrusted = !at.has_value();
        if (!at) at = parse_rfc3339(held.device_time).value_or(device_.clock.now());
        Who who{held.attendee_id, held.source, held.staff, held.issue, {}};
        NewCheckin filed = new_checkin(who, *session, *at, untrusted);
        if (device_.config.module.presence()) {
            filed.decide = decider(*session, *at, Intent::scan, nullptr);
        }
        auto outcome = device_.store->file_held_checkin(held.id, filed, device_.actor(staff));
        return outcome ? Status::ok() : outcome.status();
    }
    return Status::error(err::not_found, "This check-in is no longer held.", "Reload the list.");
}

}  // namespace ck

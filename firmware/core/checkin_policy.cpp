#include "core/checkin_policy.hpp"

#include <date/date.h>
#include <date/tz.h>

#include "core/presence.hpp"

namespace ck {
namespace {

// "08:30 on Tuesday 24 November", in the module's time zone.
std::string local_words(const Schedule& schedule, Instant t)
{
    auto local = date::make_zoned(schedule.module().zone, t).get_local_time();
    date::year_month_day ymd{date::floor<date::days>(local)};
    return date::format("%H:%M on %A ", local) + std::to_string(static_cast<unsigned>(ymd.day())) +
           date::format(" %B", local);
}

std::string describe_next(const Schedule& schedule, Instant now)
{
    const ResolvedSession* next = schedule.next_session(now);
    if (next == nullptr) {
        return "No session is open for check-in, and this module has no more sessions.";
    }
    return "No session is open for check-in. Check-in for " + next->spec->label + " opens at " +
           local_words(schedule, next->window_opens) + ".";
}

// A session staff chose by hand (see admit_session).
Status check_staff_choice(const CheckinContext& context, const ResolvedSession& session,
                          bool has_reason)
{
    if (!context.clock_trusted) {
        if (has_reason) return Status::ok();
        return Status::error(err::reason_required,
                             "The device clock is not confirmed, so it cannot tell whether " +
                                 session.spec->label + " has taken place.",
                             "Say why this attendee is checked in to it, or set the clock first.");
    }
    if (context.now < session.window_opens) {
        return Status::error(err::session_not_started,
                             session.spec->label + " has not started: check-in for it opens at " +
                                 local_words(*context.schedule, session.window_opens) + ".",
                             "Check the attendee in once the session's check-in is open.");
    }
    if (context.now >= session.end && !has_reason) {
        return Status::error(
            err::reason_required,
            session.spec->label + " is over; a check-in for it needs a reason.",
            "Say why, e.g. \"attended, forgot the badge\"; the reason is audited.");
    }
    return Status::ok();
}

}  // namespace

Result<CheckinAdmission> admit_session(const CheckinContext& context,
                                       const ResolvedSession* session, bool chosen_by_staff,
                                       bool has_reason)
{
    if (!context.clock_trusted) {
        if (context.refuse_when_clock_untrusted) {
            return Status::error(err::clock_not_trusted,
                                 "The kiosk's clock has not been confirmed, so it cannot tell "
                                 "which session this is.",
                                 "Ask course staff to set the clock from the dashboard.");
        }
        if (session == nullptr || !chosen_by_staff) {
            CheckinAdmission held;
            held.hold = true;
            held.clock_untrusted = true;
            return held;
        }
    }
    if (session != nullptr && chosen_by_staff) {
        if (Status s = check_staff_choice(context, *session, has_reason); !s) return s;
    }
    const Schedule& schedule = *context.schedule;
    CheckinAdmission admission;
    if (session == nullptr) session = schedule.open_session(context.now);
    if (session == nullptr) {
        Status closed = Status::error(err::no_open_session, describe_next(schedule, context.now),
                                      "Come back when check-in opens, or ask course staff.");
        if (!schedule.module().presence() || chosen_by_staff) return closed;
        session = session_to_leave(schedule, context.now);
        if (session == nullptr) return closed;
        admission.leaving_only = true;
        admission.entry_refusal = std::move(closed);
    } else if (schedule.module().presence() && !chosen_by_staff && context.now >= session->end) {
        // A phone's display token outlives its session by a moment. An entry then would add
        // no minute and show the attendee inside a session that is over: leaving only.
        admission.leaving_only = true;
        admission.entry_refusal = Status::error(
            err::no_open_session, "This session has ended.",
            "Scan the code on the screen at the entrance again, or ask course staff.");
    }
    admission.session = session;
    admission.clock_untrusted = !context.clock_trusted;
    return admission;
}

Result<CheckinAdmission> admit_checkin(std::string_view qr_text, const CheckinContext& context)
{
    auto credential = context.verifier->verify(qr_text);
    if (!credential) return credential.status();
    const ModuleEdition& module = context.schedule->module();
    if (credential->module_id != module.id()) {
        return Status::error(
            err::wrong_module,
            "This badge is for " + credential->module_id + ", not for " + module.id() + ".",
            "Use the badge for this module, or ask the registration desk.");
    }
    if (context.is_revoked && context.is_revoked(*credential)) {
        return Status::error(err::revoked, "This badge has been replaced by a newer one.",
                             "Use your newest badge, or ask the registration desk.");
    }
    auto admission = admit_session(context);
    if (!admission) return admission.status();
    admission->credential = std::move(*credential);
    return admission;
}

}  // namespace ck

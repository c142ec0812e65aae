// Check-ins: recording (at most one valid per attendee and session), voiding, lookups and
// the per-session counts that the dashboard reads without scanning.
#include "store/store.hpp"
#include "store/store_internal.hpp"

namespace ck {

using namespace store_detail;

nlohmann::json checkin_to_json(const CheckinRecord& r)
{
    // at_text is RFC 3339 in the module's zone: its hours and minutes are the local time.
    return {{"id", r.id},
            {"attendee_id", r.attendee_id},
            {"session_id", r.session_id},
            {"at_unix", r.at.time_since_epoch().count()},
            {"at", r.at_text},
            {"local_time", r.at_text.size() >= 16 ? r.at_text.substr(11, 5) : std::string()},
            {"source", r.source},
            {"late", r.late},
            {"not_in_roster", r.not_in_roster},
            {"clock_untrusted", r.clock_untrusted},
            {"staff", r.staff},
            {"issue", r.issue},
            {"voided", r.voided},
            {"void_reason", r.void_reason},
            {"kind", r.kind},
            {"entry_id", r.entry_id}};
}

std::optional<CheckinRecord> checkin_from_json(const nlohmann::json& j)
{
    try {
        CheckinRecord r;
        r.id = j.at("id").get<std::string>();
        r.attendee_id = j.at("attendee_id").get<std::string>();
        r.session_id = j.at("session_id").get<std::string>();
        r.at = Instant(std::chrono::seconds(j.at("at_unix").get<std::int64_t>()));
        r.at_text = j.at("at").get<std::string>();
        r.source = j.at("source").get<std::string>();
        r.late = j.at("late").get<bool>();
        r.not_in_roster = j.at("not_in_roster").get<bool>();
        r.clock_untrusted = j.at("clock_untrusted").get<bool>();
        r.staff = j.at("staff").get<std::string>();
        r.issue = j.at("issue").get<std::uint16_t>();
        r.voided = j.at("voided").get<bool>();
        r.void_reason = j.at("void_reason").get<std::string>();
        // Records stored before presence mode are entries.
        r.kind = j.value("kind", std::string("checkin"));
        r.entry_id = j.value("entry_id", std::string());
        return r;
    } catch (const nlohmann::json::exception&) {
        return std::nullopt;
    }
}

std::set<std::string> attended_session_ids(const std::vector<CheckinRecord>& checkins)
{
    std::set<std::string> ids;
    for (const auto& c : checkins) {
        if (!c.voided && !c.exit()) ids.insert(c.session_id);
    }
    return ids;
}

EventAttendance attendance_of(const ModuleEdition& module,
                              const std::vector<CheckinRecord>& records, std::optional<Instant> now)
{
    using Kind = AttendanceEvent::Kind;
    std::vector<AttendanceEvent> events;
    for (const CheckinRecord& r : records) {
        events.push_back({r.exit() ? Kind::checkout : Kind::checkin, r.id, r.session_id, r.entry_id,
                          r.at, r.source == "manual"});
        if (r.voided) events.push_back({Kind::voiding, "void-" + r.id, {}, r.id, r.at});
    }
    return attendance_from_events(module, events, now);
}

std::vector<PresenceScan> presence_scans(const std::vector<CheckinRecord>& records)
{
    std::set<std::string> voided;
    for (const CheckinRecord& r : records) {
        if (r.voided) voided.insert(r.id);
    }
    std::vector<PresenceScan> scans;
    for (const CheckinRecord& r : records) {
        if (r.voided || (r.exit() && voided.count(r.entry_id) != 0)) continue;
        scans.push_back({r.id, r.at, r.exit(), r.entry_id, r.source == "manual"});
    }
    return scans;
}

std::optional<CheckinRecord> Store::read_checkin(const Txn& txn, std::string_view id) const
{
    auto value = txn.get(checkins_, id);
    auto json = value ? parse_json(*value) : std::nullopt;
    return json ? checkin_from_json(*json) : std::nullopt;
}

Status Store::count_checkin(Txn& txn, const CheckinRecord& record, int delta)
{
    if (record.exit()) return Status::ok();  // an exit is no arrival
    SessionCount count;
    if (auto v = txn.get(session_counts_, record.session_id)) {
        if (auto json = parse_json(*v)) {
            count.present = json->value("present", 0);
            count.late = json->value("late", 0);
        }
    }
    count.present += delta;
    if (record.late) count.late += delta;
    nlohmann::json json = {{"present", count.present}, {"late", count.late}};
    return txn.put(session_counts_, record.session_id, json.dump());
}

Result<CheckinOutcome> Store::record_checkin(const NewCheckin& c)
{
    CheckinOutcome outcome;
    Status s = writes_->run([&](Txn& txn) { return insert_checkin(txn, c, outcome); });
    if (!s) return s;
    if (outcome.created) events_committed();
    return outcome;
}

Status Store::insert_checkin(Txn& txn, const NewCheckin& c, CheckinOutcome& outcome)
{
    outcome = {};
    outcome.attendee = read_attendee(txn, c.attendee_id);
    // The writer runs one job at a time, so this check and the insert are atomic.
    std::string prefix = join_key({c.attendee_id, c.session_id, ""});
    std::vector<CheckinRecord> records;  // the attendee's in the session, voided included
    txn.scan(checkin_by_attendee_, prefix, [&](std::string_view key, std::string_view) {
        if (!starts_with(key, prefix)) return false;
        if (auto record = read_checkin(txn, last_part(key))) records.push_back(std::move(*record));
        return true;
    });
    std::string kind = "checkin";
    std::string entry_id;
    if (c.decide) {  // presence mode
        auto decision = c.decide(records);
        if (!decision) return decision.status();
        outcome.scan = decision->kind;
        if (decision->kind == ScanDecision::Kind::double_scan) {
            for (const CheckinRecord& r : records) {
                if (!r.voided && (outcome.record.id.empty() || r.at >= outcome.record.at)) {
                    outcome.record = r;
                }
            }
            outcome.session_records = std::move(records);
            return Status::ok();
        }
        if (decision->kind == ScanDecision::Kind::exit) {
            kind = "checkout";
            entry_id = decision->entry_id;
            for (const CheckinRecord& r : records) {
                if (r.id == entry_id) outcome.closed_entry = r;
            }
        }
    } else {
        for (CheckinRecord& record : records) {
            if (!record.voided && !record.exit()) {
                outcome.record = std::move(record);
                return Status::ok();
            }
        }
    }
    CheckinRecord r;
    r.id = new_uuid();
    r.attendee_id = c.attendee_id;
    r.session_id = c.session_id;
    r.at = c.at;
    r.at_text = c.at_text;
    r.source = c.source;
    r.late = c.late;
    r.not_in_roster = !outcome.attendee.has_value();
    r.clock_untrusted = c.clock_untrusted;
    r.staff = c.staff;
    r.issue = c.issue;
    r.kind = kind;
    r.entry_id = entry_id;
    if (r.exit()) r.late = false;
    if (Status put = txn.put_likely_last(checkins_, r.id, checkin_to_json(r).dump()); !put)
        return put;
    if (Status put =
            txn.put(checkin_by_attendee_, join_key({r.attendee_id, r.session_id, r.id}), "");
        !put)
        return put;
    if (Status put =
            txn.put(checkin_by_session_, join_key({r.session_id, r.attendee_id, r.id}), "");
        !put)
        return put;
    if (Status counted = count_checkin(txn, r, +1); !counted) return counted;
    nlohmann::json event = {{"id", r.id},
                            {"type", r.kind},
                            {"at", r.at_text},
                            {"module_id", c.module_id},
                            {"attendee_id", r.attendee_id},
                            {"session_id", r.session_id},
                            {"source", r.source},
                            {"late", r.late},
                            {"not_in_roster", r.not_in_roster},
                            {"clock_untrusted", r.clock_untrusted}};
    if (r.exit()) {
        event.erase("late");
        event["checkin_id"] = r.entry_id;
    }
    if (!r.staff.empty()) event["staff"] = r.staff;
    if (c.held) event["held"] = *c.held;
    if (Status ev = append_event(txn, std::move(event)); !ev) return ev;
    if (r.source == "manual") {
        Actor actor{r.staff, r.at, r.at_text};
        nlohmann::json details = {
            {"checkin_id", r.id}, {"attendee_id", r.attendee_id}, {"session_id", r.session_id}};
        if (r.exit()) details["entry_id"] = r.entry_id;
        if (!c.reason.empty()) details["reason"] = c.reason;
        if (Status au = append_audit(txn, actor, r.exit() ? "manual_checkout" : "manual_checkin",
                                     std::move(details));
            !au)
            return au;
    }
    outcome.created = true;
    outcome.record = r;
    if (c.decide) {
        records.push_back(std::move(r));
        outcome.session_records = std::move(records);
    }
    return Status::ok();
}

Result<CheckinRecord> Store::void_checkin(std::string_view module_id, std::string_view checkin_id,
                                          std::string_view reason, const Actor& actor)
{
    CheckinRecord voided;
    Status s = writes_->run([&](Txn& txn) -> Status {
        auto record = read_checkin(txn, checkin_id);
        if (!record) {
            return Status::error(err::not_found,
                                 "There is no check-in " + std::string(checkin_id) + ".",
                                 "Reload the attendee and pick the check-in again.");
        }
        if (record->voided) {
            return Status::error(err::already_voided, "This check-in was already voided.",
                                 "Reload the attendee to see its current state.");
        }
        record->voided = true;
        record->void_reason = std::string(reason);
        if (Status put = txn.put(checkins_, record->id, checkin_to_json(*record).dump()); !put)
            return put;
        if (Status counted = count_checkin(txn, *record, -1); !counted) return counted;
        nlohmann::json event = {{"id", new_uuid()},
                                {"type", "void"},
                                {"at", actor.at_text},
                                {"module_id", module_id},
                                {"attendee_id", record->attendee_id},
                                {"session_id", record->session_id},
                                {"checkin_id", record->id},
                                {"reason", reason},
                                {"staff", actor.name}};
        if (Status ev = append_event(txn, std::move(event)); !ev) return ev;
        if (Status au = append_audit(txn, actor, "void",
                                     {{"checkin_id", record->id},
                                      {"attendee_id", record->attendee_id},
                                      {"session_id", record->session_id},
                                      {"reason", reason}});
            !au)
            return au;
        voided = std::move(*record);
        return Status::ok();
    });
    if (!s) return s;
    events_committed();
    return voided;
}

std::map<std::string, SessionCount> Store::session_counts() const
{
    std::map<std::string, SessionCount> counts;
    auto txn = read();
    if (!txn) return counts;
    txn->scan(session_counts_, "", [&](std::string_view key, std::string_view value) {
        if (auto json = parse_json(value)) {
            counts[std::string(key)] = {json->value("present", 0), json->value("late", 0)};
        }
        return true;
    });
    return counts;
}

std::vector<CheckinRecord> Store::recent_checkins(std::size_t limit) const
{
    std::vector<CheckinRecord> out;
    auto txn = read();
    if (!txn) return out;
    std::size_t looked = 0;
    txn->scan_reverse(events_, [&](std::string_view, std::string_view value) {
        auto json = parse_json(value);
        if (json && json->value("type", "") == "checkin") {
            auto record = read_checkin(*txn, json->value("id", ""));
            if (record && !record->voided) out.push_back(std::move(*record));
        }
        // Bounded: voids and completions between check-ins must not make this a full scan.
        return out.size() < limit && ++looked < limit * 8;
    });
    return out;
}

std::optional<CheckinRecord> Store::checkin(std::string_view checkin_id) const
{
    auto txn = read();
    if (!txn) return std::nullopt;
    return read_checkin(*txn, checkin_id);
}

std::optional<CheckinRecord> Store::find_checkin(std::string_view attendee_id,
                                                 std::string_view session_id) const
{
    for (auto& r : checkins_of_attendee(attendee_id)) {
        if (r.session_id == session_id && !r.voided) return std::move(r);
    }
    return std::nullopt;
}

std::vector<CheckinRecord> Store::checkins_of_attendee(std::string_view attendee_id) const
{
    std::vector<CheckinRecord> out;
    auto txn = read();
    if (!txn) return out;
    std::string prefix = join_key({attendee_id, ""});
    txn->scan(checkin_by_attendee_, prefix, [&](std::string_view key, std::string_view) {
        if (!starts_with(key, prefix)) return false;
        if (auto r = read_checkin(*txn, last_part(key))) out.push_back(std::move(*r));
        return true;
    });
    return out;
}

std::vector<CheckinRecord> Store::checkins_of_session(std::string_view session_id) const
{
    std::vector<CheckinRecord> out;
    auto txn = read();
    if (!txn) return out;
    std::string prefix = join_key({session_id, ""});
    txn->scan(checkin_by_session_, prefix, [&](std::string_view key, std::string_view) {
        if (!starts_with(key, prefix)) return false;
        if (auto r = read_checkin(*txn, last_part(key))) out.push_back(std::move(*r));
        return true;
    });
    return out;
}

std::vector<std::string> Store::unrostered_attendees_in_session(std::string_view session_id,
                                                                std::string_view after,
                                                                std::size_t limit) const
{
    std::vector<std::string> out;
    auto txn = read();
    if (!txn || limit == 0) return out;
    const std::string prefix = join_key({session_id, ""});
    // Keys are session \0 attendee \0 check-in id: "\1" after the attendee skips all of
    // `after`'s keys and nothing of a longer id that starts with it.
    const std::string from = after.empty() ? prefix : prefix + std::string(after) + '\1';
    std::string last;
    txn->scan(checkin_by_session_, from, [&](std::string_view key, std::string_view) {
        if (!starts_with(key, prefix)) return false;
        std::string_view rest = key.substr(prefix.size());
        std::string_view attendee = rest.substr(0, rest.find('\0'));
        if (attendee == last) return true;
        last = std::string(attendee);
        if (!txn->get(attendees_, attendee)) out.push_back(last);
        return out.size() < limit;
    });
    return out;
}

std::size_t Store::checkin_count() const
{
    auto txn = read();
    return txn ? txn->entries(checkins_) : 0;
}

}  // namespace ck

#include "core/attendance.hpp"

#include <algorithm>
#include <cmath>

#include "core/eaccme.hpp"

namespace ck {

double cme_credits(const ModuleEdition& module, const std::set<std::string>& attended_session_ids)
{
    double total = 0;
    for (const auto& day : module.days) {
        double day_credits = 0;
        for (const auto& session : day.sessions) {
            if (attended_session_ids.count(session.id) == 0) continue;
            day_credits += session_credit_cap(session.cme_hours);
        }
        total += std::min(day_credits, kEaccmeMaxPerDay);
    }
    return total;
}

CompletionResult evaluate_completion(const ModuleEdition& module,
                                     const std::set<std::string>& attended_session_ids)
{
    CompletionResult result;
    for (const auto& day : module.days) {
        for (const auto& session : day.sessions) {
            if (attended_session_ids.count(session.id) != 0) ++result.sessions_attended;
        }
    }
    result.sessions_total = module.session_count();
    const int rule = module.completion.min_sessions;
    result.attendance_complete = rule == 0 ? result.sessions_attended == result.sessions_total
                                           : result.sessions_attended >= rule;
    result.cme_credits = cme_credits(module, attended_session_ids);
    return result;
}

nlohmann::json completion_record(const ModuleEdition& module, std::string_view attendee_id,
                                 const std::set<std::string>& attended_session_ids, bool in_roster)
{
    EventAttendance attendance;
    attendance.attended_session_ids = attended_session_ids;
    attendance.result = evaluate_completion(module, attended_session_ids);
    return completion_record(module, attendee_id, attendance, in_roster);
}

nlohmann::json completion_record(const ModuleEdition& module, std::string_view attendee_id,
                                 const EventAttendance& attendance, bool in_roster)
{
    const CompletionResult& c = attendance.result;
    nlohmann::json record = {{"attendee_id", attendee_id},
                             {"module_id", module.id()},
                             {"sessions_attended", c.sessions_attended},
                             {"sessions_total", c.sessions_total},
                             {"attended_session_ids", attendance.attended_session_ids},
                             {"attendance_complete", c.attendance_complete},
                             {"cme_credits", c.cme_credits},
                             {"not_in_roster", !in_roster}};
    if (module.presence()) {
        nlohmann::json minutes = nlohmann::json::object();
        for (const auto& [session_id, p] : attendance.presence)
            minutes[session_id] = p.minutes_present;
        record["minutes_present"] = std::move(minutes);
    }
    return record;
}

namespace {

EventAttendance presence_from_events(const ModuleEdition& module,
                                     const std::vector<AttendanceEvent>& events,
                                     const std::set<std::string>& voided,
                                     std::optional<Instant> now)
{
    std::map<std::string, std::vector<PresenceScan>> scans;
    for (const auto& e : events) {
        if (e.kind == AttendanceEvent::Kind::voiding || voided.count(e.id) != 0) continue;
        const bool exit = e.kind == AttendanceEvent::Kind::checkout;
        if (exit && voided.count(e.checkin_id) != 0) continue;  // its entry was voided
        scans[e.session_id].push_back({e.id, e.at, exit, exit ? e.checkin_id : "", e.manual});
    }
    PresenceAttendance p = module_presence(module, scans, now);
    EventAttendance out;
    out.attended_session_ids = std::move(p.attended_session_ids);
    out.result = p.result;
    out.completed_at = p.completed_at;
    out.presence = std::move(p.sessions);
    return out;
}

}  // namespace

EventAttendance attendance_from_events(const ModuleEdition& module,
                                       const std::vector<AttendanceEvent>& events,
                                       std::optional<Instant> now)
{
    std::set<std::string> voided;
    for (const auto& e : events) {
        if (e.kind == AttendanceEvent::Kind::voiding) voided.insert(e.checkin_id);
    }
    if (module.presence()) return presence_from_events(module, events, voided, now);
    std::vector<const AttendanceEvent*> kept;
    for (const auto& e : events) {
        if (e.kind == AttendanceEvent::Kind::checkin && voided.count(e.id) == 0) kept.push_back(&e);
    }
    // In time order, so that completed_at is when the rule first held (ties by id: the
    // same answer whatever order the devices' events arrived in).
    std::sort(kept.begin(), kept.end(), [](const AttendanceEvent* a, const AttendanceEvent* b) {
        return a->at != b->at ? a->at < b->at : a->id < b->id;
    });
    EventAttendance out;
    for (const AttendanceEvent* e : kept) {
        if (!out.attended_session_ids.insert(e->session_id).second) continue;
        if (!out.completed_at &&
            evaluate_completion(module, out.attended_session_ids).attendance_complete) {
            out.completed_at = e->at;
        }
    }
    out.result = evaluate_completion(module, out.attended_session_ids);
    return out;
}

}  // namespace ck

#include "core/attendance.hpp"

#include <algorithm>
#include <cmath>

namespace ck {
namespace {

constexpr double kMaxPerSession = 3;
constexpr double kMaxPerDay = 6;

// Down to a multiple of 0.5; the epsilon keeps e.g. 2.4999999999 from a computed value
// at 2.5 rather than dropping it to 2.
double round_down_half(double credits) { return std::floor(credits * 2 + 1e-9) / 2; }

}  // namespace

double cme_credits(const ModuleEdition& module, const std::set<std::string>& attended_session_ids)
{
    double total = 0;
    for (const auto& day : module.days) {
        double day_credits = 0;
        for (const auto& session : day.sessions) {
            if (attended_session_ids.count(session.id) == 0) continue;
            day_credits += round_down_half(std::min(session.cme_hours, kMaxPerSession));
        }
        total += std::min(day_credits, kMaxPerDay);
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
    CompletionResult c = evaluate_completion(module, attended_session_ids);
    return {{"attendee_id", attendee_id},
            {"module_id", module.id()},
            {"sessions_attended", c.sessions_attended},
            {"sessions_total", c.sessions_total},
            {"attended_session_ids", attended_session_ids},
            {"attendance_complete", c.attendance_complete},
            {"cme_credits", c.cme_credits},
            {"not_in_roster", !in_roster}};
}

EventAttendance attendance_from_events(const ModuleEdition& module,
                                       const std::vector<AttendanceEvent>& events)
{
    std::set<std::string> voided;
    for (const auto& e : events) {
        if (e.kind == AttendanceEvent::Kind::voiding) voided.insert(e.checkin_id);
    }
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

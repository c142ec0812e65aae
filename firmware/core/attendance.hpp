// Module completion and EACCME credits from the set of sessions an attendee attended.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/module.hpp"
#include "core/presence.hpp"
#include "core/time.hpp"

namespace ck {

// EACCME: one credit per accredited hour of an attended session, at most 3 per half-day
// (session), at most 6 per day, in steps of 0.5 (rounded down). Session ids not in the
// module are ignored.
double cme_credits(const ModuleEdition& module, const std::set<std::string>& attended_session_ids);

// Completion rule: every session, or at least `completion.min_sessions` sessions.
CompletionResult evaluate_completion(const ModuleEdition& module,
                                     const std::set<std::string>& attended_session_ids);

// A completion record as stored, exported and sent to the registry:
// {"attendee_id","module_id","sessions_attended","sessions_total","attended_session_ids",
//  "attendance_complete","cme_credits","not_in_roster"}.
nlohmann::json completion_record(const ModuleEdition& module, std::string_view attendee_id,
                                 const std::set<std::string>& attended_session_ids, bool in_roster);

// One check-in, check-out or void of one attendee in one module edition, from any of its
// devices.
struct AttendanceEvent {
    enum class Kind { checkin, checkout, voiding };
    Kind kind = Kind::checkin;
    std::string id;          // the event's id (for a check-in also the check-in's)
    std::string session_id;  // checkin, checkout: the session
    std::string checkin_id;  // voiding: the check-in or check-out it voids; checkout: the
                             // check-in (entry) it closed
    Instant at{};
    bool manual = false;  // recorded by staff
};

struct EventAttendance {
    std::set<std::string> attended_session_ids;
    CompletionResult result;
    // When the completion rule first held: the time of the check-in that completed it
    // (presence mode: the moment the last needed session reached its minutes).
    std::optional<Instant> completed_at;
    // Presence mode: each scanned session's intervals and minutes (core/presence.hpp).
    std::map<std::string, SessionPresence> presence;
};

// Attendance from the union of the events of all an edition's devices (SPEC sections 9 and
// 10): every check-in not voided (by a void from any device) counts once for its session,
// whichever device took it; two kiosks at one venue add up. In presence mode check-ins are
// entries and check-outs exits (the exits of voided entries left out), and the minutes
// follow core/presence.hpp, doors and devices merged. Order does not matter.
EventAttendance attendance_from_events(const ModuleEdition& module,
                                       const std::vector<AttendanceEvent>& events,
                                       std::optional<Instant> now = std::nullopt);

// The completion record of `attendance` (either mode); in presence mode with
// "minutes_present": {session id: minutes} for every session the attendee was scanned in.
nlohmann::json completion_record(const ModuleEdition& module, std::string_view attendee_id,
                                 const EventAttendance& attendance, bool in_roster);

}  // namespace ck

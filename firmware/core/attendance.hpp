// Module completion and EACCME credits from the set of sessions an attendee attended.
#pragma once

#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "core/module.hpp"

namespace ck {

struct CompletionResult {
    int sessions_attended = 0;
    int sessions_total = 0;
    bool attendance_complete = false;
    double cme_credits = 0;  // multiple of 0.5
};

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

}  // namespace ck

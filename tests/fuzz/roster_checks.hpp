// The promises of a RosterImport (core/roster.hpp) that both roster formats must keep,
// whatever the file: consistent counts, only valid rows accepted, and a report and
// attendees that always serialise (their strings are valid UTF-8).
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <unordered_set>

#include "core/roster.hpp"
#include "fuzz_check.hpp"

namespace ck::fuzz {

inline bool serialises(const nlohmann::json& json)
{
    try {
        (void)json.dump();  // strict: throws on invalid UTF-8
        return true;
    } catch (const nlohmann::json::exception&) {
        return false;
    }
}

inline void check_roster_import(const RosterImport& import)
{
    if (!import.file_error.empty()) {
        CK_FUZZ_CHECK(import.accepted.empty() && import.rows_total == 0);
    } else {
        CK_FUZZ_CHECK(static_cast<std::size_t>(import.rows_total) ==
                      import.accepted.size() + import.rejected.size());
    }
    std::unordered_set<std::string> ids;
    for (const Attendee& a : import.accepted) {
        CK_FUZZ_CHECK(!a.id.empty() && a.id.size() <= 64);
        CK_FUZZ_CHECK(ids.insert(a.id).second);
        CK_FUZZ_CHECK(!a.family_name.empty() && !a.given_name.empty());
        CK_FUZZ_CHECK(serialises(attendee_to_json(a)));
        CK_FUZZ_CHECK(serialises(a.display_name()));
        CK_FUZZ_CHECK(serialises(a.first_name_initial()));
    }
    for (const RosterRowProblem& problem : import.rejected) {
        CK_FUZZ_CHECK(problem.line >= 1 && !problem.code.empty() && !problem.message.empty());
        CK_FUZZ_CHECK(problem.id.size() <= 64);
    }
    CK_FUZZ_CHECK(serialises(roster_import_report_to_json(import)));
}

}  // namespace ck::fuzz

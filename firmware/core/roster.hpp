// Roster import: attendees from CSV or JSON, with a per-row report. Pure parsing and
// validation; storing the accepted rows is the store's job.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace ck {

struct Attendee {
    std::string id;  // registration number: 1..64 chars of [A-Za-z0-9._-]
    std::string family_name;
    std::string given_name;
    std::string email;                       // optional
    std::string country;                     // optional
    std::string display_name() const;        // "Given Family"
    std::string first_name_initial() const;  // "Given F." (what public screens show)
};

nlohmann::json attendee_to_json(const Attendee& attendee);

struct RosterRowProblem {
    int line = 0;         // CSV: 1-based physical line where the record starts (header is line 1)
                          // JSON: 1-based index of the element in the attendee array
    std::string id;       // the row's id if it had one
    std::string code;     // stable, e.g. "missing_field", "invalid_id", "duplicate_id"
    std::string message;  // human-readable, names the field
    std::string field;    // the field the problem is with ("id", "email"...); empty: the row
};

struct RosterImport {
    std::vector<Attendee> accepted;  // in file order
    std::vector<RosterRowProblem> rejected;
    int rows_total = 0;
    // Set when the file as a whole is unusable (no header, missing required column,
    // not JSON, not an array...); then nothing is accepted.
    std::string file_error;
};

// CSV: header row naming the columns id, family_name, given_name and optionally email,
// country (other columns ignored, case-insensitive names); UTF-8 with or without BOM;
// comma or semicolon (detected from the header); RFC 4180 quoting, quoted newlines
// allowed; CRLF or LF line ends; blank lines skipped.
RosterImport parse_roster_csv(std::string_view text);
// JSON: an array of attendee objects, or {"attendees": [...]} (schemas/roster.schema.json).
RosterImport parse_roster_json(std::string_view text);

// One attendee object with the fields of a JSON roster's element (a walk-in added at the
// registration desk, POST /api/v1/attendees): the same rules as a roster row, so the
// result holds one accepted attendee or one rejected row (line 1), never both.
RosterImport parse_roster_entry(const nlohmann::json& entry);

nlohmann::json roster_import_report_to_json(const RosterImport& import);

}  // namespace ck

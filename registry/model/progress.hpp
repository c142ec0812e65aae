// Completion of module editions and the ECNR cycle, as only the registry can know them
// (SPEC section 9): per attendee and edition from the union of the check-in and void
// events of all the edition's devices (core/attendance.hpp), each device's own completion
// record kept and compared; the cycle across every edition and cycle.
#pragma once

#include <array>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/attendance.hpp"
#include "core/module.hpp"
#include "core/status.hpp"
#include "db/pg.hpp"

namespace ck::registry {

// A device's latest completion record for the attendee, and whether the registry's
// union backs it: a device may see less than the registry (another kiosk took some
// check-ins), never more.
struct DeviceRecord {
    std::string device_id;
    bool attendance_complete = false;
    int sessions_attended = 0;
    double cme_credits = 0;
    bool agrees = true;
};

struct EditionProgress {
    std::string module_id;
    int number = 0;
    std::string cycle;
    std::string venue;
    std::string first_day;  // "2026-11-23"
    std::string last_day;
    bool in_roster = false;
    EventAttendance attendance;
    int clock_untrusted = 0;  // check-ins taken while the device's clock was not trusted
    std::vector<DeviceRecord> device_records;
    bool disagreement() const;
};

struct AttendeeProgress {
    std::string attendee_id;
    std::string family_name;
    std::string given_name;
    std::vector<EditionProgress> editions;  // every edition the attendee is in or attended
    // Per module 1..4 the edition that counts: the first completed, else the one with the
    // most sessions attended; none when the attendee has no edition of that module.
    std::array<std::optional<std::size_t>, 4> modules;
    bool cycle_complete = false;
    std::optional<Instant> cycle_completed_at;  // when the last of the four was completed
    std::string name() const;                   // "Given Family"
    double cme_credits_total() const;           // of the four editions that count
};

// The attendee's progress; not_found when the registry has never heard of the id.
Result<AttendeeProgress> attendee_progress(Database& db, const std::string& attendee_id,
                                           const ZoneLookup& zones);

// Every attendee id the registry knows (in a roster or in an event), in order.
Result<std::vector<std::string>> attendee_ids(Database& db);

// GET /api/v1/attendees/{id}/progress:
// {"attendee_id","name","modules":{"1":{...}|null,...},"cycle_complete","cycle_completed_at",
//  "cme_credits_total"}, each module {"module_id","cycle","venue","first_day","last_day",
// "completed_at","sessions_attended","sessions_total","attendance_complete","cme_credits",
// "clock_untrusted","disagreement","device_records"}.
nlohmann::json progress_to_json(const AttendeeProgress& progress);

// One export row per attendee and edition (SPEC section 9), optionally of one edition:
// {"attendee_id","name","module_id","sessions_attended","sessions_total",
//  "attendance_complete","cme_credits","completed_at"}.
Result<std::vector<nlohmann::json>> export_rows(Database& db, const std::string& module_id,
                                                const ZoneLookup& zones);
// The rows as CSV (UTF-8 with BOM, `separator` ';' or ',', core/csv.hpp).
std::string export_csv(const std::vector<nlohmann::json>& rows, char separator);

}  // namespace ck::registry

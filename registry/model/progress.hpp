// Completion of module editions and the ECNR cycle, as only the registry can know them
// (SPEC section 9): per attendee and edition from the union of the check-in and void
// events of all the edition's devices (core/attendance.hpp), each device's own completion
// record kept and compared; the cycle across every edition and cycle.
//
// This file computes progress from the events themselves. What the office and the
// commands read is kept computed in PostgreSQL (model/progress_summaries.hpp), by this
// very code.
#pragma once

#include <array>
#include <map>
#include <memory>
#include <mutex>
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

// The editions' definitions, parsed once and kept while their revision (module_editions
// .revision, raised by every `module add`) stays the same. Safe to share between threads.
class EditionCatalog {
public:
    explicit EditionCatalog(ZoneLookup zones);

    using Snapshot = std::map<std::string, std::shared_ptr<const ModuleEdition>>;
    // Every edition as the database holds it now: one small query, and a parse of each
    // edition added or changed since the last call.
    Result<Snapshot> current(Database& db);

private:
    struct Parsed {
        std::string revision;
        std::shared_ptr<const ModuleEdition> edition;
    };
    const ZoneLookup zones_;
    std::mutex mutex_;
    std::map<std::string, Parsed> parsed_;
};

// What the registry holds about one attendee: name, rosters, and every event.
struct AttendeeFacts {
    struct EditionEvents {
        std::vector<AttendanceEvent> events;
        int clock_untrusted = 0;
        std::map<std::string, nlohmann::json> latest_record;  // per device, by seq
    };
    std::string attendee_id;
    bool in_attendees = false;  // a roster named them
    std::string family_name;
    std::string given_name;
    std::set<std::string> in_roster;              // module ids
    std::map<std::string, EditionEvents> events;  // by module id
    bool known() const { return in_attendees || !in_roster.empty() || !events.empty(); }
};

// The facts of `ids`, in the order given (three statements whatever their number).
Result<std::vector<AttendeeFacts>> load_facts(Database& db, const std::vector<std::string>& ids);

// Progress from the facts and the editions' definitions; not_found for an attendee the
// registry has never heard of, unknown_module for an event of an edition not defined.
Result<AttendeeProgress> compute_progress(const AttendeeFacts& facts,
                                          const EditionCatalog::Snapshot& editions);

// The attendee's progress computed from the events now (what `progress --verify`
// compares the summaries with); not_found when the registry has never heard of the id.
Result<AttendeeProgress> attendee_progress(Database& db, const std::string& attendee_id,
                                           const ZoneLookup& zones);

// GET /api/v1/attendees/{id}/progress:
// {"attendee_id","name","modules":{"1":{...}|null,...},"cycle_complete","cycle_completed_at",
//  "cme_credits_total"}, each module {"module_id","cycle","venue","first_day","last_day",
// "completed_at","sessions_attended","sessions_total","attendance_complete","cme_credits",
// "clock_untrusted","disagreement","device_records"}.
nlohmann::json progress_to_json(const AttendeeProgress& progress);
// The cycle state alone, as the office's list of everyone shows it (GET /api/v1/cycles):
// {"attendee_id","name","cycle_complete","cycle_completed_at","modules_completed" (the
// numbers 1-4 of the modules completed),"cme_credits_total"}.
nlohmann::json cycle_state_to_json(const AttendeeProgress& progress);

// How the office names an attendee: "Given Family" (either alone when the other is empty).
std::string attendee_name(const std::string& family_name, const std::string& given_name);

// An RFC 3339 UTC time, or JSON null.
nlohmann::json time_or_null(const std::optional<Instant>& t);

}  // namespace ck::registry

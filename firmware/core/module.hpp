// The module edition a device serves: what the config file's "module" object describes.
//
// Pure data plus validation. Time-zone names are resolved through a caller-supplied
// lookup so that this file never touches the tz database on disk.
#pragma once

#include <functional>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.hpp"

namespace date {
class time_zone;
}

namespace ck {

struct SessionSpec {
    std::string id;     // unique within the module, e.g. "d1-am"
    std::string label;  // e.g. "Monday morning"
    int start_min = 0;  // local minutes after midnight, 0..1439
    int end_min = 0;    // local minutes after midnight, start_min < end_min <= 1440 ("24:00")
    double cme_hours = 0;
};

struct DaySpec {
    int year = 0;
    unsigned month = 0;
    unsigned day = 0;
    std::vector<SessionSpec> sessions;
    std::string date_text() const;  // "2026-11-23"
};

struct CompletionRule {
    int min_sessions = 0;  // 0 means: every session of every day
    // Presence mode: a session is attended once the minutes present reach this share of
    // its length (SPEC section 10).
    int min_presence_pct = 80;
};

// What the completion rule says of one attendee (core/attendance.hpp, core/presence.hpp).
struct CompletionResult {
    int sessions_attended = 0;
    int sessions_total = 0;
    bool attendance_complete = false;
    double cme_credits = 0;  // multiple of 0.5
};

// How attendance is taken (SPEC section 10, config "module.attendance").
enum class AttendanceMode {
    session,   // one check-in per session attends it (the default)
    presence,  // scans toggle in and out; credits follow the minutes present
};
struct AttendanceOptions {
    AttendanceMode mode = AttendanceMode::session;
    // A scan of the same attendee within this many seconds of their last is a double
    // scan: answered, nothing recorded.
    int rescan_grace_s = 120;
    // Whether an entry without an exit counts until the session's end (it is flagged
    // no_exit either way).
    bool count_missing_exit = true;
};

struct ModuleEdition {
    std::string cycle;  // "2026-2": year, then 1 (spring) or 2 (autumn)
    int number = 0;     // 1..4
    std::string title;  // the ECNR title of `number`
    std::string venue;
    std::string timezone;  // IANA name, e.g. "Europe/Paris"
    const date::time_zone* zone = nullptr;
    int checkin_opens_before_min = 60;
    int late_after_min = 15;
    CompletionRule completion;
    AttendanceOptions attendance;
    std::vector<DaySpec> days;  // five days in the ECNR, in date order

    std::string id() const;  // "ecnr-<cycle>-m<number>", e.g. "ecnr-2026-2-m3"
    int session_count() const;
    bool presence() const { return attendance.mode == AttendanceMode::presence; }
};

// ECNR title of module 1..4; empty for any other number.
std::string_view ecnr_module_title(int number);

using ZoneLookup = std::function<const date::time_zone*(std::string_view name)>;

// Builds and validates a module edition from the config's "module" object. Every problem
// is reported as Status code "invalid_config" with a message naming the JSON path
// (e.g. "module.days[2].sessions[0].end: must be after start"); nothing throws.
//
// - The accepted shape is schemas/config.schema.json's "module": an optional key that is
//   absent takes its default; null is a wrong type; an unknown key is an error.
// - "title" is the one tolerated extra key and is ignored: the title always comes from
//   ecnr_module_title(number), so every device names a module the way the registry does.
// - `lookup` resolves "timezone"; a null result or an exception means an unknown zone.
Result<ModuleEdition> parse_module(const nlohmann::json& module_json, const ZoneLookup& lookup);

// The module as the API shows it (GET /api/v1/module, without the open session): the
// config fields plus "id", "title" and, per session, "starts_at", "ends_at" and
// "window_opens_at" in RFC 3339 with the local offset, resolved as Schedule does.
// "completion.min_sessions" is null for the every-session rule.
nlohmann::json module_to_json(const ModuleEdition& module);

}  // namespace ck

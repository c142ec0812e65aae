// Instants and their text form. The core never reads a clock: every "now" is a parameter.
//
// A null `zone` stands for UTC everywhere in this file, so code that has no tz database
// (or a module built by hand in a test) still gets well-defined answers.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace date {
class time_zone;
}

namespace ck {

// A point in time, UTC, whole seconds.
using Instant = std::chrono::time_point<std::chrono::system_clock, std::chrono::seconds>;

// RFC 3339 with the zone's offset at that instant, e.g. "2026-11-23T08:41:07+01:00".
// Offsets with seconds (pre-1900 local mean time) are rounded to whole minutes and the
// local time printed with them, so the text always names exactly `t`.
std::string format_rfc3339(Instant t, const date::time_zone* zone);
// RFC 3339 in UTC, e.g. "2026-11-23T07:41:07Z".
std::string format_rfc3339_utc(Instant t);
// Parses RFC 3339: "YYYY-MM-DD" 'T'|'t' "hh:mm:ss", optional ".fraction" (dropped, i.e.
// truncated to the second), then 'Z'|'z' or "+hh:mm"/"-hh:mm". Anything else, including
// a leap second ":60", a space separator or a missing offset, is rejected. Never throws.
std::optional<Instant> parse_rfc3339(std::string_view text);
// Local wall-clock time "HH:MM" of `t` in `zone`.
std::string format_local_hhmm(Instant t, const date::time_zone* zone);

// The instant of local wall-clock time `minutes` after midnight starting the local date
// year-month-day in `zone`; minutes may be 1440 ("24:00" = midnight starting the next
// day). A local time skipped by a spring-forward change maps to the instant of the
// change; one repeated by a fall-back change maps to its earliest occurrence.
Instant resolve_local_time(int year, unsigned month, unsigned day, int minutes,
                           const date::time_zone* zone);

}  // namespace ck

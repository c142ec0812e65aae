// Instants and their text form. The core never reads a clock: every "now" is a parameter.
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
std::string format_rfc3339(Instant t, const date::time_zone* zone);
// RFC 3339 in UTC, e.g. "2026-11-23T07:41:07Z".
std::string format_rfc3339_utc(Instant t);
// Parses RFC 3339 ("Z" or "+hh:mm" offset, optional fractional seconds, which are dropped).
std::optional<Instant> parse_rfc3339(std::string_view text);
// Local wall-clock time "HH:MM" of `t` in `zone`.
std::string format_local_hhmm(Instant t, const date::time_zone* zone);

}  // namespace ck

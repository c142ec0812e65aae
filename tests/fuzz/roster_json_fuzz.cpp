// Roster import from JSON (core/roster.hpp parse_roster_json): an array of attendees or
// {"attendees": [...]}, uploaded by staff or read by `course-kiosk roster import`.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/roster.hpp"
#include "roster_checks.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    ck::fuzz::check_roster_import(ck::parse_roster_json(text));
    return 0;
}

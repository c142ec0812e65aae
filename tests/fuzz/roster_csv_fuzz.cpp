// Roster import from CSV (core/roster.hpp parse_roster_csv): what staff upload and what
// `course-kiosk roster import` reads.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/roster.hpp"
#include "roster_checks.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    ck::fuzz::check_roster_import(ck::parse_roster_csv(text));
    return 0;
}

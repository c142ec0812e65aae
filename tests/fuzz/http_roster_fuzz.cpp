// Roster upload through the real handler (http/handle_roster.cpp): parsed, reported and
// stored. The first byte chooses the Content-Type (by its value modulo 4): JSON, CSV,
// text/plain (read as CSV) or one the handler refuses. The rest is the body.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_device.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    if (size == 0) return 0;
    static const char* const kTypes[] = {"application/json", "text/csv; charset=utf-8",
                                         "text/plain", "application/octet-stream"};
    const std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);
    httplib::Headers headers = {{"Content-Type", kTypes[data[0] % 4]}};
    ck::fuzz::FuzzDevice::next().call("POST", "/api/v1/roster", body, headers);
    return 0;
}

// Staff corrections through the real handlers (http/handle_staff.cpp), as a logged-in
// staff member. The first byte chooses: even, a manual check-in of A0001
// (POST /api/v1/attendees/A0001/checkins {"session_id"}); odd, voiding a valid check-in
// (POST /api/v1/checkins/{id}/void {"reason"}). The rest is the body.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_device.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    if (size == 0) return 0;
    const std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);
    ck::fuzz::FuzzDevice& fuzz = ck::fuzz::FuzzDevice::next();
    const std::string path =
        (data[0] & 1) != 0 ? "/api/v1/checkins/" + fuzz.live_checkin_id() + "/void"
                           : std::string("/api/v1/attendees/") + ck::fuzz::kAttendee + "/checkins";
    fuzz.call("POST", path, body);
    return 0;
}

// Staff requests about the device through the real handlers (http/handle_admin.cpp). The
// first byte chooses: even, setting the clock (PUT /api/v1/clock {"time"}); odd, filing
// a held check-in by hand (POST /api/v1/held/{id}/file {"session_id"}). The rest is the
// body. A clock an input set is put back afterwards, so the next input finds the same
// open session.
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
    ck::Device& device = fuzz.device();
    if ((data[0] & 1) != 0) {
        fuzz.call("POST", "/api/v1/held/" + fuzz.held_checkin_id() + "/file", body);
        return 0;
    }
    const ck::Instant before = device.clock.now();
    httplib::Response answer;
    if (fuzz.call("PUT", "/api/v1/clock", body, {}, &answer) && answer.status == 200) {
        device.clock.set(before, "staff");
    }
    return 0;
}

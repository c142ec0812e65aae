// Phone self check-in through the real handlers (http/handle_phone.cpp). The first byte
// chooses: even, POST /api/v1/phone/identify; odd, POST /api/v1/phone/checkins; with bit 1
// set the phone carries a valid ck_phone cookie. The rest is the body, where "$TOKEN"
// stands for the display's current token and "$CREDENTIAL" for a valid badge.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_device.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    if (size == 0) return 0;
    const std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);
    ck::fuzz::FuzzDevice& fuzz = ck::fuzz::FuzzDevice::next();
    httplib::Headers headers;
    if ((data[0] & 2) != 0) headers.emplace("Cookie", fuzz.phone_cookie());
    const char* path = (data[0] & 1) != 0 ? "/api/v1/phone/checkins" : "/api/v1/phone/identify";
    fuzz.call("POST", path, body, headers);
    return 0;
}

// Staff login through the real handler (http/staff_auth.cpp, POST /api/v1/session
// {"username","password"}). The account "fuzz-staff" (password "fuzz password") exists
// with a cheap scrypt cost; any other name costs the real one, on purpose, so inputs that
// name no account run at a few per second.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_device.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const std::string_view body(reinterpret_cast<const char*>(data), size);
    ck::fuzz::FuzzDevice& fuzz = ck::fuzz::FuzzDevice::next();
    fuzz.call("POST", "/api/v1/session", body);
    // Wrong passwords slow the client down in the HTTP context, which is made again for
    // every input.
    return 0;
}

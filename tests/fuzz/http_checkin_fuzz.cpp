// POST /api/v1/checkins through the real handler (http/handle_checkin.cpp): the body
// parser, the credential, the check-in policy and the store. "$CREDENTIAL" in the input
// stands for a valid badge of this device (fuzz_device.hpp).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_device.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const std::string_view body(reinterpret_cast<const char*>(data), size);
    ck::fuzz::FuzzDevice::next().call("POST", "/api/v1/checkins", body);
    return 0;
}

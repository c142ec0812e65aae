// The registry's roster answer (core/registry_roster.hpp parse_registry_roster), applied
// the way the outbox relay's roster pull does: parsed, stored, the trusted keys reloaded.
//
// A roster the parser accepts must be storable: a refusal by the store would mean the
// parser let through something the device cannot keep.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string_view>

#include "core/registry_roster.hpp"
#include "fuzz_check.hpp"
#include "fuzz_device.hpp"
#include "roster_checks.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    auto roster = ck::parse_registry_roster(text, ck::fuzz::kModuleId);
    if (!roster) {
        CK_FUZZ_CHECK(roster.status().code() == "bad_roster");
        CK_FUZZ_CHECK(ck::fuzz::serialises(roster.status().message()));
        return 0;
    }
    for (const auto& [attendee_id, issue] : roster->revoked) CK_FUZZ_CHECK(issue >= 1);

    ck::Device& device = ck::fuzz::FuzzDevice::next().device();
    auto stats = device.store->apply_registry_roster(*roster, "\"fuzz\"");
    if (!stats)
        std::fprintf(stderr, "refused by the store: %s\n", stats.status().message().c_str());
    CK_FUZZ_CHECK(stats.is_ok());
    device.reload_keys();
    for (const auto& [attendee_id, issue] : roster->revoked) {
        CK_FUZZ_CHECK(device.store->is_revoked(attendee_id, issue));
    }
    return 0;
}

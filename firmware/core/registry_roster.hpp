// The registry's roster answer (schemas/registry-roster.schema.json, docs/sync.md): the
// module's attendees, revoked credentials and trusted keys, validated as a whole. A roster
// with any bad part is refused whole, so that the device keeps the one it had.
#pragma once

#include <string_view>
#include <utility>
#include <vector>

#include "core/credential.hpp"
#include "core/roster.hpp"
#include "core/status.hpp"

namespace ck {

struct RegistryRoster {
    std::vector<Attendee> attendees;
    std::vector<std::pair<std::string, std::uint16_t>> revoked;  // attendee id, issue
    TrustedKeys keys;
};

// Errors have code "bad_roster" and say what is wrong (the first problem found).
Result<RegistryRoster> parse_registry_roster(std::string_view text, std::string_view module_id);

}  // namespace ck

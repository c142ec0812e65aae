// Devices at the registry: each has one bearer token, bound to it and to one module
// edition (docs/sync.md section 2). Only the token's SHA-256 is stored: the token itself is
// shown once, when the device is added, and cannot be recovered afterwards.
#pragma once

#include <string>

#include "core/status.hpp"
#include "db/pg.hpp"

namespace ck::registry {

// Adds `device_id` for `module_id` and returns its new token. Adding a device id that
// exists (revoked or not) gives it a new token and the edition: the old token stops
// working at once, the device's events stay.
Result<std::string> add_device(Database& db, const std::string& device_id,
                               const std::string& module_id);

// The device a token belongs to, if it is not revoked; otherwise unauthenticated.
struct DeviceGrant {
    std::string device_id;
    std::string module_id;
};
Result<DeviceGrant> authenticate_device(Database& db, const std::string& token);

// Revokes the device's token; its events stay. Unknown device: not_found.
Status revoke_device(Database& db, const std::string& device_id);

}  // namespace ck::registry

#include "model/devices.hpp"

#include "core/device_id.hpp"
#include "core/password.hpp"

namespace ck::registry {

Result<std::string> add_device(Database& db, const std::string& device_id,
                               const std::string& module_id)
{
    if (!is_device_id(device_id)) {
        return Status::error(err::malformed_request, "device id '" + device_id +
                                                         "' is not valid: lower-case letters, "
                                                         "digits and '-', at most 63");
    }
    std::string token = random_hex(32);
    auto rows = db.exec(
        "INSERT INTO devices (id, module_id, token_hash) "
        "SELECT $1, m.id, decode($3, 'hex') FROM module_editions m WHERE m.id = $2 "
        "ON CONFLICT (id) DO UPDATE SET module_id = excluded.module_id, "
        "token_hash = excluded.token_hash, revoked_at = NULL, created_at = now() "
        "RETURNING id",
        {device_id, module_id, sha256_hex(token)});
    if (!rows) return rows.status();
    if (rows->count() == 0) {
        return Status::error(err::not_found, "no module edition " + module_id,
                             "Add it first: course-registry module add FILE.json");
    }
    return token;
}

Result<DeviceGrant> authenticate_device(Database& db, const std::string& token)
{
    auto rows = db.exec(
        "SELECT id, module_id FROM devices "
        "WHERE token_hash = decode($1, 'hex') AND revoked_at IS NULL",
        {sha256_hex(token)});
    if (!rows) return rows.status();
    if (rows->count() == 0) {
        return Status::error(err::unauthenticated, "The registry does not know this token.",
                             "Check registry.token_file on the device.");
    }
    return DeviceGrant{rows->text(0, 0), rows->text(0, 1)};
}

Status revoke_device(Database& db, const std::string& device_id)
{
    auto rows = db.exec(
        "UPDATE devices SET revoked_at = coalesce(revoked_at, now()) "
        "WHERE id = $1 RETURNING id",
        {device_id});
    if (!rows) return rows.status();
    if (rows->count() == 0) return Status::error(err::not_found, "no device " + device_id);
    return Status::ok();
}

}  // namespace ck::registry

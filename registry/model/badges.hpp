// The registry as the issuer of badges (SPEC section 9): its Ed25519 badge-signing keys
// (key id, rotation, retirement), each attendee's badge issue per edition, revocations,
// and the badge sheet. Every key not retired goes to the devices with the roster (and so
// do the revocations), so a badge the registry printed or mailed checks in at every
// device of its edition, offline.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/credential.hpp"
#include "core/module.hpp"
#include "core/roster.hpp"
#include "core/status.hpp"
#include "db/pg.hpp"

namespace ck::registry {

struct KeyInfo {
    std::uint32_t key_id = 0;
    std::string public_key_base64;  // 44 characters, as the roster answer has it
    std::string created_at;
    std::string retired_at;  // empty while trusted
};

// A new key; from now on badges are signed with it. Older keys stay trusted.
Result<KeyInfo> rotate_key(Database& db);
// The key is no longer trusted: devices refuse its badges once they pull the roster.
// Unknown or already retired: not_found.
Status retire_key(Database& db, std::uint32_t key_id);
Result<std::vector<KeyInfo>> list_keys(Database& db);

// The roster answer's "keys" and the edition's "revoked" (docs/sync.md section 4).
Result<nlohmann::json> trusted_keys_json(Database& db);
Result<nlohmann::json> revoked_json(Database& db, const std::string& module_id);

// Re-issues the attendee's badge of the edition: the current issue is revoked (with
// `reason`) and the next sheet prints issue + 1. Returns the new issue.
Result<int> reissue_badge(Database& db, const std::string& module_id,
                          const std::string& attendee_id, const std::string& reason);

// The badges of the edition's roster, or of `attendee_ids` (each must be in it): each
// attendee with the QR text of their current issue, signed with the newest key (one is
// made if there is none).
struct IssuedBadge {
    Attendee attendee;
    std::string credential;  // the QR text
};
Result<std::vector<IssuedBadge>> issue_badges(Database& db, const std::string& module_id,
                                              const std::vector<std::string>& attendee_ids);

// The A4 sheet (core/badge_sheet.hpp) of the edition's roster, or of `attendee_ids` (each
// must be in it), signed with the newest key (one is made if there is none).
Result<std::string> badge_sheet(Database& db, const std::string& module_id,
                                const std::vector<std::string>& attendee_ids,
                                const ZoneLookup& zones);

}  // namespace ck::registry

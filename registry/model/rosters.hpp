// Rosters at the registry: the attendees of one module edition, from the same CSV or JSON
// files a device imports (core/roster.hpp, the same rules row by row). The attendee id is
// the society's registration number: one person across every edition, so importing a
// roster updates the names of attendees already known.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "core/roster.hpp"
#include "core/status.hpp"
#include "db/pg.hpp"

namespace ck::registry {

// Parses `text` (CSV or JSON by `file_name`'s extension) and stores the accepted rows in
// one transaction. The import report says what was accepted and rejected; a file that
// is unusable as a whole stores nothing. Unknown edition: not_found.
Result<RosterImport> import_roster(Database& db, const std::string& module_id,
                                   std::string_view file_name, std::string_view text);

// The roster a device of the edition pulls (docs/sync.md section 4,
// schemas/registry-roster.schema.json): a complete snapshot of the attendees, revoked
// credentials and the registry's badge-signing keys, with an ETag that is a hash of it
// (the same content, the same ETag). Unknown edition: unknown_module.
struct RosterSnapshot {
    nlohmann::json body;
    std::string etag;  // quoted: "\"<hex>\""
};
Result<RosterSnapshot> roster_snapshot(Database& db, const std::string& module_id);

}  // namespace ck::registry

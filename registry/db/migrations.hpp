// The registry's schema, as numbered migrations applied in order (`course-registry
// migrate`, and `serve` at start). Each migration runs once, in one transaction with its
// version row; a database whose schema is newer than this binary knows is refused.
#pragma once

#include <span>
#include <string_view>

#include "core/status.hpp"
#include "db/pg.hpp"

namespace ck::registry {

struct Migration {
    int version;
    std::string_view name;
    std::string_view sql;
};

// Every migration this binary knows, in version order (1, 2, ...).
std::span<const Migration> migrations();
int latest_schema_version();

struct MigrateOutcome {
    int from_version = 0;  // 0: an empty database
    int to_version = 0;
};

// Brings the schema to latest_schema_version(). Concurrent callers (two registry
// processes starting at once) are serialised by an advisory lock; the second finds
// nothing left to do. A newer schema: Status store_too_new, nothing changed.
Result<MigrateOutcome> migrate(Database& db);

// The version the database is at (0: no schema yet).
Result<int> schema_version(Database& db);

}  // namespace ck::registry

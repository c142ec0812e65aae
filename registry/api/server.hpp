// The registry's HTTP interface (SPEC section 9): the device protocol of docs/sync.md
// (events in, rosters out) and the health check, on the hardened server the device uses
// (net/hardened_server.hpp). Every handler takes a PostgreSQL connection from the pool for
// its request; the server keeps no state of its own, so several registry processes may
// serve one database.
#pragma once

#include <httplib.h>

#include <memory>

#include "db/pool.hpp"
#include "model/events.hpp"
#include "net/hardened_server.hpp"

namespace ck::registry {

struct RegistryContext {
    ConnectionPool& pool;
    const BatchParser& batches;
};

// Limits of docs/sync.md section 2: a batch at most 8 MiB as sent, 32 MiB after gzip.
inline constexpr std::size_t kBatchMaxBytes = 8u << 20;
inline constexpr std::size_t kBatchMaxDecodedBytes = 32u << 20;

// The request schema embedded in the binary (schemas/sync-events-request.schema.json).
nlohmann::json batch_schema();

// Builds the server for `context` (which must outlive it).
std::unique_ptr<httplib::Server> make_registry_server(RegistryContext& context,
                                                      const ServerOptions& options);

}  // namespace ck::registry

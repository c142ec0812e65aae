// The registry's HTTP interface (SPEC section 9): the device protocol of docs/sync.md
// (events in, rosters out) and the health check, on the hardened server the device uses
// (net/hardened_server.hpp). Every handler takes a PostgreSQL connection from the pool for
// its request; the server keeps no state of its own, so several registry processes may
// serve one database.
#pragma once

#include <httplib.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <semaphore>

#include "core/module.hpp"
#include "db/pool.hpp"
#include "model/events.hpp"
#include "model/progress_summaries.hpp"
#include "net/client_address.hpp"
#include "net/hardened_server.hpp"
#include "net/rate_limit.hpp"
#include "net/web_session.hpp"

namespace ck::registry {

// Batches parsed and applied at once by one process (RegistryContext::batch_slots).
inline constexpr std::ptrdiff_t kBatchSlots = 4;

// Counters /metrics shows, since the process started.
struct RegistryCounters {
    std::atomic<std::uint64_t> batches_stored{0};    // 200 with new events
    std::atomic<std::uint64_t> batches_repeated{0};  // 200 with nothing new (probe, duplicate)
    std::atomic<std::uint64_t> batches_refused{0};   // 409, 403 for a batch
    std::atomic<std::uint64_t> events_stored{0};
    std::atomic<std::uint64_t> roster_pulls{0};          // 200
    std::atomic<std::uint64_t> roster_unchanged{0};      // 304
    std::atomic<std::uint64_t> database_unavailable{0};  // 503 storage_unavailable answers
};

struct RegistryContext {
    RegistryContext(ConnectionPool& pool, const BatchParser& batches, ZoneLookup zones,
                    ProgressSummaries& summaries);

    ConnectionPool& pool;
    const BatchParser& batches;
    ZoneLookup zones;              // resolves the editions' time zones
    ProgressSummaries& summaries;  // what the office reads of progress
    // Office logins: per client address (the TLS proxy on loopback passes it on in
    // X-Forwarded-For), rate-limited and slowed down after wrong passwords.
    ClientAddresses clients;
    RateLimiter login_limiter;
    LoginThrottle login_throttle;
    RegistryCounters counters;
    // Batches parsed and applied at once. A batch of 1,000 events is about 4 MB while it is
    // parsed; more at once than the cores can work on only adds memory (bench/run registry:
    // 50 at once took 196 MiB), so the rest wait here, holding only their bodies.
    std::counting_semaphore<64> batch_slots{kBatchSlots};
};

// The office's session cookie (HttpOnly, SameSite=Strict; CSRF in X-CSRF-Token).
inline constexpr const char* kOfficeCookie = "cr_office";

// Limits of docs/sync.md section 2: a batch at most 8 MiB as sent, 32 MiB after gzip.
inline constexpr std::size_t kBatchMaxBytes = 8u << 20;
inline constexpr std::size_t kBatchMaxDecodedBytes = 32u << 20;

// The request schema embedded in the binary (schemas/sync-events-request.schema.json).
nlohmann::json batch_schema();

// Builds the server for `context` (which must outlive it).
std::unique_ptr<httplib::Server> make_registry_server(RegistryContext& context,
                                                      const ServerOptions& options);

}  // namespace ck::registry

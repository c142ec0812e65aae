// OutboxRelay: delivers the event log to the registry, in order and in batches, and records
// the registry's acknowledgement durably, so that after any restart it resumes from what
// was acknowledged (SPEC section 6). Delivery is at least once; a resent event keeps its
// seq and id.
//
// Failures: timeouts, refused connections and 5xx are retried with full-jitter exponential
// backoff (1 s doubling up to a 30 s cap, so a device back on the network delivers within a
// minute); 409 rewinds to the registry's acked_through; 400/401/403 are reported and
// retried only at the cap's pace, never hammered. Each pass also pulls the roster (new
// attendees, revocations, trusted keys) when the registry has a new one.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <thread>

#include "core/backoff.hpp"
#include "core/status.hpp"
#include "sync/registry_client.hpp"

namespace ck {

class Device;

struct SyncOutcome {
    bool caught_up = false;  // everything in the log is acknowledged
    bool retryable = true;   // on failure: worth retrying soon
    std::uint64_t sent = 0;  // events sent in this pass (including resends)
    Status error;            // the failure, if any
};

// The registry's acknowledgement in its answer to a batch of events (200 or 409):
// {"acked_through": N}; nullopt when the body has no unsigned acked_through.
std::optional<std::uint64_t> parse_acked_through(std::string_view body);

class OutboxRelay {
public:
    static constexpr std::size_t kBatchSize = 500;

    explicit OutboxRelay(Device& device);
    ~OutboxRelay();  // stops the background thread, if started
    OutboxRelay(const OutboxRelay&) = delete;
    OutboxRelay& operator=(const OutboxRelay&) = delete;

    // Starts the background worker (serve). Without a registry in the config it does nothing.
    void start();
    // Asks the worker to send now (POST /api/v1/sync).
    void wake();
    // One pass in the caller's thread: send until caught up or a failure (sync --once).
    SyncOutcome sync_once();

    // Status for GET /api/v1/sync, the dashboard and /metrics.
    nlohmann::json status() const;

private:
    void run();
    void record(const SyncOutcome& outcome, std::optional<std::chrono::milliseconds> retry_in);
    // GET the roster with If-None-Match and apply it; problems go to meta "roster_last_error"
    // and never stop the events.
    void pull_roster(RegistryClient& client);
    void note_registry_time(Instant registry_time, std::chrono::milliseconds round_trip);

    Device& device_;
    BackoffPolicy backoff_{std::chrono::milliseconds(1000), std::chrono::milliseconds(30000)};
    mutable std::mutex mutex_;
    std::condition_variable wake_;
    bool stopping_ = false;
    bool woken_ = false;
    int failures_ = 0;
    std::string next_attempt_;                    // RFC 3339, empty when idle
    std::optional<std::int64_t> clock_offset_s_;  // registry Date minus device clock
    std::mt19937_64 random_{std::random_device{}()};
    std::thread thread_;
};

}  // namespace ck

// OutboxRelay: delivers the event log to the registry, in order and in batches, and records
// the registry's acknowledgement durably, so that after any restart it resumes from what
// was acknowledged (SPEC section 6). Delivery is at least once; a resent event keeps its
// seq and id.
//
// Failures: timeouts, refused connections and 5xx are retried with full-jitter exponential
// backoff (1 s doubling up to a 30 s cap, so a device back on the network delivers within a
// minute); 409 rewinds to the registry's acked_through; 400/401/403 are reported and
// retried only at the cap's pace, never hammered. Once caught up, the relay also pulls the
// roster (new attendees, revocations, trusted keys), at most once per interval.
//
// When to send: every `interval_s` (the config), at once when staff ask (wake()), and
// as soon as the store commits a new event (events_committed(), wired by serve) unless the
// relay is backing off after a failure: with the registry reachable, a check-in reaches
// it within a second, and an unreachable one is not asked once per check-in.
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <thread>

#include "app/sync_control.hpp"
#include "core/backoff.hpp"
#include "core/status.hpp"
#include "sync/registry_client.hpp"

namespace ck {

class CheckinService;
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

class OutboxRelay : public SyncControl {
public:
    static constexpr std::size_t kBatchSize = 500;

    // `transport` null: a RegistryClient for the config's registry (when there is one).
    // The registry's Date corrects an untrusted clock through `checkins` (its held
    // check-ins are filed then).
    OutboxRelay(Device& device, CheckinService& checkins,
                std::unique_ptr<RegistryTransport> transport = nullptr);
    ~OutboxRelay() override;  // stops the background thread, if started
    OutboxRelay(const OutboxRelay&) = delete;
    OutboxRelay& operator=(const OutboxRelay&) = delete;

    // Starts the background worker (serve). Without a registry in the config it does nothing.
    void start();
    // One pass in the caller's thread: send until caught up or a failure (sync --once).
    SyncOutcome sync_once();
    // The store committed new events: send soon, unless backing off after a failure.
    void events_committed();

    // SyncControl: "sync now" (POST /api/v1/sync), and the status for GET /api/v1/sync,
    // the dashboard and /metrics.
    bool configured() const override;
    void wake() override;
    nlohmann::json status() const override;

private:
    void run();
    void record(const SyncOutcome& outcome, std::optional<std::chrono::milliseconds> retry_in);
    // GET the roster with If-None-Match and apply it; problems go to meta "roster_last_error"
    // and never stop the events.
    void pull_roster(RegistryTransport& transport);
    // The roster is asked for at most once per interval (a pass follows every new event),
    // and at once after wake().
    bool roster_due();
    void note_registry_time(Instant registry_time, std::chrono::milliseconds round_trip);

    Device& device_;
    CheckinService& checkins_;
    std::unique_ptr<RegistryTransport> transport_;
    BackoffPolicy backoff_{std::chrono::milliseconds(1000), std::chrono::milliseconds(30000)};
    mutable std::mutex mutex_;
    std::condition_variable wake_;
    bool stopping_ = false;
    bool woken_ = false;
    int failures_ = 0;  // consecutive failed passes: backing off while > 0
    bool roster_forced_ = false;
    std::optional<std::chrono::steady_clock::time_point> roster_pulled_;
    std::string next_attempt_;                    // RFC 3339, empty when idle
    std::optional<std::int64_t> clock_offset_s_;  // registry Date minus device clock
    std::mt19937_64 random_{std::random_device{}()};
    std::thread thread_;
};

}  // namespace ck

#include "sync/outbox_relay.hpp"

#include "app/clock_correction.hpp"
#include "app/device.hpp"
#include "log/log.hpp"

namespace ck {
namespace {

Status refused(const RegistryReply& reply)
{
    std::string detail = reply.body.substr(0, 300);
    return Status::error(
        err::registry_refused(reply.status),
        "The registry refused the events (HTTP " + std::to_string(reply.status) + "): " + detail,
        reply.status == 401 || reply.status == 403
            ? "Check the device token in registry.token_file."
            : "Report this to the registry's operators.");
}

}  // namespace

std::optional<std::uint64_t> parse_acked_through(std::string_view body)
{
    auto json = nlohmann::json::parse(body, nullptr, false);
    if (!json.is_object() || !json.contains("acked_through") ||
        !json["acked_through"].is_number_unsigned()) {
        return std::nullopt;
    }
    return json["acked_through"].get<std::uint64_t>();
}

OutboxRelay::OutboxRelay(Device& device, CheckinService& checkins,
                         std::unique_ptr<RegistryTransport> transport)
    : device_(device), checkins_(checkins), transport_(std::move(transport))
{
    if (!transport_ && device_.config.registry) {
        transport_ = std::make_unique<RegistryClient>(
            *device_.config.registry, std::chrono::seconds(device_.config.registry->timeout_s));
    }
}

bool OutboxRelay::configured() const { return device_.config.registry.has_value(); }

OutboxRelay::~OutboxRelay()
{
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
}

void OutboxRelay::start()
{
    if (!transport_ || thread_.joinable()) return;
    thread_ = std::thread([this] { run(); });
}

void OutboxRelay::wake()
{
    {
        std::lock_guard lock(mutex_);
        woken_ = true;
        roster_forced_ = true;
    }
    wake_.notify_all();
}

void OutboxRelay::events_committed()
{
    {
        std::lock_guard lock(mutex_);
        if (failures_ > 0) return;  // backing off: the next attempt takes these too
        woken_ = true;
    }
    wake_.notify_all();
}

SyncOutcome OutboxRelay::sync_once()
{
    SyncOutcome outcome;
    if (!transport_) {
        outcome.retryable = false;
        outcome.error = Status::error(err::sync_not_configured, "No registry is configured.",
                                      "Add a \"registry\" to the config.");
        return outcome;
    }
    RegistryTransport& client = *transport_;
    Store& store = *device_.store;
    int rewinds = 0;
    for (;;) {
        std::uint64_t acked = store.acked_through();
        std::uint64_t last = store.last_seq();
        if (acked >= last) {
            outcome.caught_up = true;
            if (roster_due()) pull_roster(client);
            return outcome;
        }
        auto events = store.events_from(acked + 1, kBatchSize);
        nlohmann::json list = nlohmann::json::array();
        for (auto& e : events) list.push_back(std::move(e.body));
        nlohmann::json batch = {{"device_id", device_.config.device_id},
                                {"first_seq", acked + 1},
                                {"events", std::move(list)}};
        RegistryReply reply = client.post_events(device_.config.device_id, batch);
        if (reply.date) note_registry_time(*reply.date, reply.round_trip);
        if (reply.status == 0) {
            outcome.error = Status::error(err::registry_unreachable,
                                          "The registry did not answer: " + reply.transport_error,
                                          "Check the venue network; events wait in the outbox.");
            return outcome;
        }
        outcome.sent += events.size();
        if (reply.status == 200) {
            auto n = parse_acked_through(reply.body);
            if (!n || *n > last) {
                outcome.error = Status::error(err::registry_bad_answer,
                                              "The registry's answer has no valid acked_through.",
                                              "Report this to the registry's operators.");
                return outcome;
            }
            // Below our own acked_through means the registry lost events: resend them.
            if (Status s = store.set_acked_through(*n, *n < acked); !s) {
                outcome.error = s;
                return outcome;
            }
            if (*n <= acked) {
                if (++rewinds > 3) {
                    outcome.error = Status::error(err::registry_no_progress,
                                                  "The registry acknowledges nothing new.",
                                                  "Report this to the registry's operators.");
                    return outcome;
                }
            } else {
                rewinds = 0;
            }
            continue;
        }
        if (reply.status == 409) {
            auto n = parse_acked_through(reply.body);
            if (!n || ++rewinds > 3) {
                outcome.error =
                    Status::error(err::registry_conflict, "The registry keeps answering 409.",
                                  "Report this to the registry's operators.");
                return outcome;
            }
            if (Status s = store.set_acked_through(*n, true); !s) {
                outcome.error = s;
                return outcome;
            }
            continue;
        }
        outcome.error = refused(reply);
        outcome.retryable = !(reply.status == 400 || reply.status == 401 || reply.status == 403);
        return outcome;
    }
}

bool OutboxRelay::roster_due()
{
    const auto interval =
        std::chrono::seconds(device_.config.registry ? device_.config.registry->interval_s : 30);
    const auto now = std::chrono::steady_clock::now();
    std::lock_guard lock(mutex_);
    if (!roster_forced_ && roster_pulled_ && now - *roster_pulled_ < interval) return false;
    roster_forced_ = false;
    roster_pulled_ = now;
    return true;
}

void OutboxRelay::pull_roster(RegistryTransport& client)
{
    Store& store = *device_.store;
    const std::string module_id = device_.config.module.id();
    RegistryReply reply = client.get_roster(module_id, store.meta("roster_etag").value_or(""));
    auto fail = [&](const Status& error) {
        nlohmann::json record = {{"code", error.code()},
                                 {"message", error.message()},
                                 {"at", device_.actor("sync").at_text}};
        store.set_meta("roster_last_error", record.dump());
        CK_WARN("sync", error.message());
    };
    // docs/sync.md section 5: an error shows until a retry succeeds. A 304 is a success:
    // the roster the device has is the registry's.
    auto succeeded = [&] {
        store.set_meta("roster_last_error", "");
        store.set_meta("roster_last_pull", device_.actor("sync").at_text);
    };
    if (reply.status == 304) {
        succeeded();
        return;
    }
    if (reply.status != 200) {
        fail(Status::error(err::roster_unavailable,
                           "The registry's roster could not be fetched: " +
                               (reply.status == 0 ? reply.transport_error
                                                  : "HTTP " + std::to_string(reply.status)),
                           "The previous roster stays in use."));
        return;
    }
    auto roster = parse_registry_roster(reply.body, module_id);
    if (!roster) {
        fail(roster.status());
        return;
    }
    auto stats = store.apply_registry_roster(*roster, reply.etag);
    if (!stats) {
        fail(stats.status());
        return;
    }
    device_.reload_keys();
    succeeded();
    CK_INFO("sync", "roster from the registry: " << stats->created << " new, " << stats->updated
                                                 << " updated, " << roster->revoked.size()
                                                 << " revoked, " << roster->keys.size() << " keys");
}

void OutboxRelay::note_registry_time(Instant registry_time, std::chrono::milliseconds round_trip)
{
    // The Date was written about half a round trip before the answer arrived.
    Instant estimate =
        registry_time + std::chrono::duration_cast<std::chrono::seconds>(round_trip / 2);
    Instant local = device_.clock.now();
    {
        std::lock_guard lock(mutex_);
        clock_offset_s_ = (estimate - local).count();
    }
    // An untrusted clock (no NTP, not set by staff) takes the registry's time (SPEC 8).
    if (!device_.clock.trusted())
        correct_clock(device_, checkins_, estimate, "registry", "registry");
}

void OutboxRelay::record(const SyncOutcome& outcome,
                         std::optional<std::chrono::milliseconds> retry_in)
{
    Actor now = device_.actor("sync");
    if (outcome.error.is_ok()) {
        device_.store->set_meta("sync_last_success", now.at_text);
        device_.store->set_meta("sync_last_error", "");  // shown until a retry succeeds
    } else {
        nlohmann::json error = {{"code", outcome.error.code()},
                                {"message", outcome.error.message()},
                                {"at", now.at_text}};
        device_.store->set_meta("sync_last_error", error.dump());
        CK_WARN("sync", outcome.error.message());
    }
    std::lock_guard lock(mutex_);
    next_attempt_ =
        retry_in
            ? format_rfc3339(now.at + std::chrono::duration_cast<std::chrono::seconds>(*retry_in),
                             device_.config.module.zone)
            : "";
}

void OutboxRelay::run()
{
    const auto interval =
        std::chrono::seconds(device_.config.registry ? device_.config.registry->interval_s : 30);
    std::unique_lock lock(mutex_);
    while (!stopping_) {
        woken_ = false;
        lock.unlock();
        SyncOutcome outcome = sync_once();
        std::chrono::milliseconds wait = interval;
        lock.lock();
        if (outcome.error.is_ok()) {
            failures_ = 0;
        } else {
            double unit = std::uniform_real_distribution<double>(0.0, 1.0)(random_);
            wait = outcome.retryable ? full_jitter_delay(backoff_, failures_, unit) : backoff_.cap;
            ++failures_;
        }
        lock.unlock();
        record(outcome, wait);
        lock.lock();
        wake_.wait_for(lock, wait, [this] { return stopping_ || woken_; });
    }
}

nlohmann::json OutboxRelay::status() const
{
    Store& store = *device_.store;
    std::uint64_t last_seq = store.last_seq();
    std::uint64_t acked = store.acked_through();
    nlohmann::json oldest = nullptr;
    if (last_seq > acked) {
        auto events = store.events_from(acked + 1, 1);
        if (!events.empty()) oldest = events.front().body.value("at", "");
    }
    auto success = store.meta("sync_last_success");
    auto error_text = store.meta("sync_last_error");
    nlohmann::json error = nullptr;
    if (error_text) {
        error = nlohmann::json::parse(*error_text, nullptr, false);
        if (error.is_discarded()) error = nullptr;
    }
    auto meta_or_null = [&](const char* key) {
        auto v = store.meta(key);
        return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
    };
    nlohmann::json roster_error = nullptr;
    if (auto text = store.meta("roster_last_error")) {
        roster_error = nlohmann::json::parse(*text, nullptr, false);
        if (roster_error.is_discarded()) roster_error = nullptr;
    }
    std::lock_guard lock(mutex_);
    return {{"configured", device_.config.registry.has_value()},
            {"pending", last_seq - acked},
            {"last_seq", last_seq},
            {"acked_through", acked},
            {"oldest_pending_at", oldest},
            {"last_success", success ? nlohmann::json(*success) : nlohmann::json(nullptr)},
            {"last_error", error},
            {"next_attempt",
             next_attempt_.empty() ? nlohmann::json(nullptr) : nlohmann::json(next_attempt_)},
            {"clock_offset_s",
             clock_offset_s_ ? nlohmann::json(*clock_offset_s_) : nlohmann::json(nullptr)},
            {"roster",
             {{"etag", meta_or_null("roster_etag")},
              {"last_pull", meta_or_null("roster_last_pull")},
              {"last_error", roster_error}}}};
}

}  // namespace ck

// OutboxRelay (sync/outbox_relay.hpp) against a scripted registry, in-process: batches,
// acknowledgements, rewinds, refusals, the roster pull, the registry's Date, and the wake-up
// on a committed event.
#include "sync/outbox_relay.hpp"

#include <doctest/doctest.h>
#include <openssl/evp.h>

#include <atomic>
#include <condition_variable>
#include <deque>

#include "test_device.hpp"

namespace {

using ck::test::at;
using ck::test::TestDevice;
using ck::test::TestDeviceOptions;
using namespace std::chrono_literals;

// A registry in the test's hands: by default it stores what it is sent and acknowledges it,
// as docs/sync.md says; `next` replies come first, one per POST.
class ScriptedRegistry : public ck::RegistryTransport {
public:
    struct Batch {
        std::uint64_t first_seq = 0;
        std::vector<std::uint64_t> seqs;
    };

    ck::RegistryReply post_events(const std::string& device_id,
                                  const nlohmann::json& batch) override
    {
        std::lock_guard lock(mutex_);
        CHECK(device_id == "unit-kiosk");
        CHECK(batch["device_id"] == "unit-kiosk");
        Batch got{batch["first_seq"].get<std::uint64_t>(), {}};
        for (const auto& e : batch["events"]) got.seqs.push_back(e["seq"].get<std::uint64_t>());
        batches.push_back(got);
        ck::RegistryReply reply;
        if (!next.empty()) {
            reply = next.front();
            next.pop_front();
        } else {
            // Stores in order: acknowledges through the batch's last seq if it follows on.
            if (got.first_seq <= acked + 1 && !got.seqs.empty()) {
                acked = std::max(acked, got.seqs.back());
            }
            reply.status = 200;
            reply.body = nlohmann::json{{"acked_through", acked}}.dump();
        }
        reply.date = date;
        changed_.notify_all();
        return reply;
    }

    ck::RegistryReply get_roster(const std::string& module_id, const std::string& etag) override
    {
        std::lock_guard lock(mutex_);
        CHECK(module_id == ck::test::kModuleId);
        ++roster_requests;
        ck::RegistryReply reply;
        if (roster.empty() || etag == roster_etag) {
            reply.status = 304;
        } else {
            reply.status = 200;
            reply.body = roster;
            reply.etag = roster_etag;
        }
        return reply;
    }

    // Waits (at most `bound`) until the registry holds `seq`.
    bool wait_for_acked(std::uint64_t seq, std::chrono::seconds bound)
    {
        std::unique_lock lock(mutex_);
        return changed_.wait_for(lock, bound, [&] { return acked >= seq; });
    }

    std::mutex mutex_;
    std::deque<ck::RegistryReply> next;
    std::vector<Batch> batches;
    std::uint64_t acked = 0;
    std::optional<ck::Instant> date;
    std::string roster;
    std::string roster_etag;
    int roster_requests = 0;

private:
    std::condition_variable changed_;
};

struct Fixture {
    ScriptedRegistry* registry;  // owned by the relay
    std::unique_ptr<TestDevice> device;

    explicit Fixture(const char* now = ck::test::kInMorning, bool ntp = true,
                     nlohmann::json config = nlohmann::json::object())
    {
        auto transport = std::make_unique<ScriptedRegistry>();
        registry = transport.get();
        TestDeviceOptions options;
        options.now = now;
        options.ntp = ntp;
        options.config = std::move(config);
        options.transport = std::move(transport);
        device = std::make_unique<TestDevice>(std::move(options));
    }

    // `n` check-ins of distinct (unrostered) attendees: n events.
    void check_in(int n)
    {
        for (int i = 0; i < n; ++i) {
            const std::string id =
                "X" + std::to_string(i) + "-" + std::to_string(device->store().last_seq());
            REQUIRE(device->checkins().badge(device->credential(id)).is_ok());
        }
    }

    ck::RegistryReply reply(int status, const nlohmann::json& body) const
    {
        ck::RegistryReply r;
        r.status = status;
        r.body = body.dump();
        return r;
    }
};

std::string base64(const ck::PublicKey& key)
{
    unsigned char out[64] = {};
    const int n = EVP_EncodeBlock(out, key.data(), static_cast<int>(key.size()));
    return std::string(reinterpret_cast<const char*>(out), static_cast<std::size_t>(n));
}

}  // namespace

TEST_CASE("sync_once: every event in order, in batches, acknowledged durably")
{
    Fixture f;
    f.check_in(1203);
    ck::SyncOutcome outcome = f.device->relay().sync_once();
    CHECK(outcome.error.is_ok());
    CHECK(outcome.caught_up);
    CHECK(outcome.sent == 1203);
    REQUIRE(f.registry->batches.size() == 3);
    std::uint64_t expected = 1;
    for (const auto& batch : f.registry->batches) {
        CHECK(batch.first_seq == expected);
        CHECK(batch.seqs.size() <= ck::OutboxRelay::kBatchSize);
        for (std::uint64_t seq : batch.seqs) CHECK(seq == expected++);
    }
    CHECK(f.device->store().acked_through() == 1203);
    auto status = f.device->relay().status();
    CHECK(status["pending"] == 0);
    CHECK(status["acked_through"] == 1203);

    // Nothing new: nothing sent.
    f.registry->batches.clear();
    CHECK(f.device->relay().sync_once().sent == 0);
    CHECK(f.registry->batches.empty());
}

TEST_CASE("sync_once: a 409 or a lower acknowledgement rewinds and resends from there")
{
    Fixture f;
    f.check_in(5);
    REQUIRE(f.device->relay().sync_once().error.is_ok());
    REQUIRE(f.device->store().acked_through() == 5);
    f.check_in(2);

    SUBCASE("409 with the registry's acked_through")
    {
        // The registry lost events 4 and 5 (restored from a backup).
        f.registry->acked = 3;
        f.registry->next.push_back(f.reply(409, {{"acked_through", 3}}));
    }
    SUBCASE("200 below what it acknowledged before")
    {
        f.registry->acked = 3;
        f.registry->next.push_back(f.reply(200, {{"acked_through", 3}}));
    }
    f.registry->batches.clear();
    ck::SyncOutcome outcome = f.device->relay().sync_once();
    CHECK(outcome.error.is_ok());
    REQUIRE(f.registry->batches.size() == 2);
    CHECK(f.registry->batches[0].first_seq == 6);
    CHECK(f.registry->batches[1].first_seq == 4);  // resent from the registry's point
    CHECK(f.registry->batches[1].seqs == std::vector<std::uint64_t>{4, 5, 6, 7});
    CHECK(f.device->store().acked_through() == 7);
}

TEST_CASE("sync_once: refusals and failures keep every event and say why")
{
    struct Case {
        const char* name;
        ck::RegistryReply reply;
        const char* code;
        bool retryable;
    };
    ck::RegistryReply unreachable;
    unreachable.transport_error = "Connection refused";
    ck::RegistryReply unauthorised;
    unauthorised.status = 401;
    unauthorised.body = R"({"error":{"code":"unauthenticated"}})";
    ck::RegistryReply overloaded;
    overloaded.status = 503;
    ck::RegistryReply nonsense;
    nonsense.status = 200;
    nonsense.body = R"({"acked_through": "all of them"})";
    ck::RegistryReply beyond;
    beyond.status = 200;
    beyond.body = R"({"acked_through": 99})";
    const Case cases[] = {
        {"unreachable", unreachable, "registry_unreachable", true},
        {"wrong token", unauthorised, "registry_401", false},
        {"overloaded", overloaded, "registry_503", true},
        {"no number", nonsense, "registry_bad_answer", true},
        {"more than was sent", beyond, "registry_bad_answer", true},
    };
    for (const Case& c : cases) {
        CAPTURE(c.name);
        Fixture f;
        f.check_in(3);
        f.registry->next.push_back(c.reply);
        ck::SyncOutcome outcome = f.device->relay().sync_once();
        CHECK(outcome.error.code() == c.code);
        CHECK(outcome.retryable == c.retryable);
        CHECK_FALSE(outcome.caught_up);
        CHECK(f.device->store().acked_through() == 0);
        CHECK(f.device->store().last_seq() == 3);
        // The next pass delivers them.
        CHECK(f.device->relay().sync_once().error.is_ok());
        CHECK(f.device->store().acked_through() == 3);
    }
}

TEST_CASE("the registry's Date sets an untrusted clock and files the held check-ins")
{
    Fixture f("2026-11-22T08:40:00+01:00", /*ntp=*/false);  // a day behind
    auto held = f.device->checkins().badge(f.device->credential("A001"));
    REQUIRE(held.is_ok());
    REQUIRE(held->kind == ck::CheckinResult::Kind::held);
    f.device->time().pass(60s);
    f.registry->date = at("2026-11-23T08:41:00+01:00");
    // A held check-in is not an event yet, and the Date comes with the answer to events:
    // staff record someone by hand (flagged clock_untrusted, with a reason: the clock cannot
    // tell whether the session took place) and the relay sends it.
    REQUIRE(
        f.device->checkins()
            .manual("A002", f.device->device().schedule->find("d1-am"), "maria", "seen in the room")
            .is_ok());
    REQUIRE(f.device->relay().sync_once().error.is_ok());
    CHECK(f.device->device().clock.trusted());
    CHECK(f.device->device().clock.trust_source() == "registry");
    CHECK(f.device->store().held_count() == 0);
    auto filed = f.device->store().find_checkin("A001", "d1-am");
    REQUIRE(filed.has_value());
    CHECK(filed->at == at("2026-11-23T08:40:00+01:00"));
    // The filed check-in is an event too, sent in the same pass, with the clock now right.
    CHECK(f.device->store().acked_through() == 2);
    CHECK(f.registry->batches.size() == 2);
    CHECK(f.device->relay().status()["clock_offset_s"] == 0);
    bool audited = false;
    for (const auto& e : f.device->store().audit_entries(20)) {
        if (e.body.value("action", "") != "set_clock") continue;
        audited = true;
        CHECK(e.body["actor"] == "registry");
        CHECK(e.body["details"]["from"] == "2026-11-22T08:41:00+01:00");
    }
    CHECK(audited);
}

TEST_CASE("the roster pull: new attendees, revocations and keys; 304 changes nothing")
{
    Fixture f;
    const ck::SigningKey registry_key = ck::SigningKey::generate();
    f.registry->roster =
        nlohmann::json{
            {"module_id", ck::test::kModuleId},
            {"attendees", {{{"id", "R100"}, {"family_name", "Novak"}, {"given_name", "Jan"}}}},
            {"revoked", {{{"attendee_id", "A002"}, {"issue", 1}, {"reason", "lost"}}}},
            {"keys",
             {{{"key_id", ck::key_id_hex(registry_key.key_id())},
               {"public_key", base64(registry_key.public_key())}}}}}
            .dump();
    f.registry->roster_etag = "\"r1\"";
    const std::string a002 = f.device->credential("A002");

    REQUIRE(f.device->relay().sync_once().error.is_ok());
    CHECK(f.registry->roster_requests == 1);
    CHECK(f.device->store().attendee("R100").has_value());
    CHECK(f.device->relay().status()["roster"]["etag"] == "\"r1\"");
    // A badge the registry signed checks in offline; the revoked one is refused.
    auto badge = f.device->checkins().badge(
        registry_key.issue({.module_id = ck::test::kModuleId, .attendee_id = "R100"}));
    REQUIRE_MESSAGE(badge.is_ok(), badge.status().message());
    CHECK_FALSE(badge->record.not_in_roster);
    CHECK(f.device->checkins().badge(a002).status().code() == "revoked");

    // Asked again at most once per interval; "sync now" asks at once, and gets a 304.
    REQUIRE(f.device->relay().sync_once().error.is_ok());
    CHECK(f.registry->roster_requests == 1);
    f.device->relay().wake();
    REQUIRE(f.device->relay().sync_once().error.is_ok());
    CHECK(f.registry->roster_requests == 2);

    // A roster for another module is refused and reported; the old one stays.
    f.registry->roster = R"({"module_id": "ecnr-2026-2-m1", "attendees": []})";
    f.registry->roster_etag = "\"r2\"";
    f.device->relay().wake();
    REQUIRE(f.device->relay().sync_once().error.is_ok());
    CHECK(f.device->relay().status()["roster"]["last_error"].is_object());
    CHECK(f.device->store().attendee("R100").has_value());
}

TEST_CASE("a committed check-in wakes the running relay: no wait for the next round")
{
    Fixture f;  // interval_s 30
    f.device->store().on_events_committed([&f] { f.device->relay().events_committed(); });
    f.device->relay().start();
    // The first round finds nothing to send; a check-in now must not wait 30 s for the next.
    REQUIRE(f.device->checkins().badge(f.device->credential("A001")).is_ok());
    CHECK(f.registry->wait_for_acked(1, 10s));
    REQUIRE(f.device->checkins().badge(f.device->credential("A002")).is_ok());
    CHECK(f.registry->wait_for_acked(2, 10s));
}

TEST_CASE("under load: check-ins through the server while the relay delivers and staff read")
{
    // Every scanner is 127.0.0.1 here: the per-client limit must not be what is measured.
    Fixture f(ck::test::kInMorning, true, {{"limits", {{"checkin_burst_per_client", 100000}}}});
    f.device->store().on_events_committed([&f] { f.device->relay().events_committed(); });
    f.device->relay().start();
    const int port = f.device->serve();
    constexpr int kThreads = 4;
    constexpr int kEach = 25;
    std::vector<std::string> badges;
    for (int i = 0; i < kThreads * kEach; ++i) {
        badges.push_back(f.device->credential("L" + std::to_string(i)));
    }
    std::atomic<int> created{0};
    std::atomic<int> already{0};
    std::vector<std::thread> scanners;
    for (int t = 0; t < kThreads; ++t) {
        scanners.emplace_back([&, t] {
            httplib::Client client("127.0.0.1", port);
            client.set_read_timeout(30);
            for (int i = 0; i < kEach; ++i) {
                // Each badge is scanned twice, by two scanners: exactly one check-in each.
                const std::string& badge =
                    badges[static_cast<std::size_t>((t * kEach + i) % badges.size())];
                const std::string& twin =
                    badges[static_cast<std::size_t>(((t + 1) % kThreads) * kEach + i)];
                for (const std::string* b : {&badge, &twin}) {
                    auto res =
                        client.Post("/api/v1/checkins", nlohmann::json{{"credential", *b}}.dump(),
                                    "application/json");
                    if (res && res->status == 201) ++created;
                    if (res && res->status == 200) ++already;
                }
            }
        });
    }
    std::atomic<bool> done{false};
    std::thread staff([&] {
        while (!done) {
            (void)f.device->call("GET", "/api/v1/summary", "", "maria");
            (void)f.device->relay().status();
        }
    });
    for (auto& s : scanners) s.join();
    done = true;
    staff.join();

    CHECK(created == kThreads * kEach);
    CHECK(already == kThreads * kEach);
    CHECK(f.device->store().checkin_count() == static_cast<std::size_t>(kThreads * kEach));
    CHECK(f.registry->wait_for_acked(kThreads * kEach, 30s));
    CHECK(f.device->store().last_seq() == static_cast<std::uint64_t>(kThreads * kEach));
}

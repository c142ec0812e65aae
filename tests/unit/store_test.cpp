#include "store/store.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <latch>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/credential.hpp"
#include "store/lmdb.hpp"
#include "store/write_queue.hpp"

namespace {

// A fresh directory under /tmp, removed with everything in it at the end of the test.
class TempDir {
public:
    TempDir()
    {
        std::string pattern = "/tmp/ck-store-test-XXXXXX";
        REQUIRE(mkdtemp(pattern.data()) != nullptr);
        path_ = pattern;
    }
    ~TempDir()
    {
        std::error_code ignored;
        std::filesystem::remove_all(path_, ignored);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::string& path() const { return path_; }

private:
    std::string path_;
};

constexpr std::size_t kTestMapSize = std::size_t{64} << 20;

std::unique_ptr<ck::Store> open_store(const std::string& dir, std::size_t map_size = kTestMapSize)
{
    auto store = ck::Store::open({.dir = dir, .map_size = map_size});
    REQUIRE_MESSAGE(store.is_ok(), store.status().code(), ": ", store.status().message());
    return std::move(*store);
}

ck::Instant instant(std::int64_t unix_seconds)
{
    return ck::Instant(std::chrono::seconds(unix_seconds));
}

ck::NewCheckin new_checkin(std::string attendee, std::string session, std::int64_t at = 1795419000)
{
    ck::NewCheckin c;
    c.module_id = "ecnr-2026-2-m3";
    c.attendee_id = std::move(attendee);
    c.session_id = std::move(session);
    c.at = instant(at);
    c.at_text = ck::format_rfc3339_utc(c.at);
    c.source = "badge";
    c.issue = 1;
    return c;
}

ck::CheckinRecord must_record(ck::Store& store, const ck::NewCheckin& c, bool expect_created)
{
    auto outcome = store.record_checkin(c);
    REQUIRE_MESSAGE(outcome.is_ok(), outcome.status().code(), ": ", outcome.status().message());
    CHECK(outcome->created == expect_created);
    return outcome->record;
}

ck::Attendee person(std::string id, std::string family, std::string given, std::string email = "",
                    std::string country = "")
{
    return {.id = std::move(id),
            .family_name = std::move(family),
            .given_name = std::move(given),
            .email = std::move(email),
            .country = std::move(country)};
}

std::vector<std::string> ids_of(const std::vector<ck::CheckinRecord>& records)
{
    std::vector<std::string> ids;
    for (const auto& r : records) ids.push_back(r.id);
    std::sort(ids.begin(), ids.end());
    return ids;
}

// Every event from seq 1 on; checks that they run 1, 2, 3, ... last_seq with no gap.
std::vector<ck::StoredEvent> all_events_contiguous(const ck::Store& store)
{
    const auto events = store.events_from(0, 1'000'000);
    REQUIRE(events.size() == store.last_seq());
    for (std::size_t i = 0; i < events.size(); ++i) {
        CAPTURE(i);
        REQUIRE(events[i].seq == i + 1);
        REQUIRE(events[i].body.value("seq", std::uint64_t{0}) == i + 1);
    }
    return events;
}

bool is_lower_hex(char c)
{
    return std::isdigit(static_cast<unsigned char>(c)) || (c >= 'a' && c <= 'f');
}

// A 1 MiB environment in `dir` with one database, "test".
MDB_dbi open_test_db(ck::LmdbEnv& env, const std::string& dir)
{
    REQUIRE(env.open(dir, std::size_t{1} << 20, 4));
    MDB_dbi dbi = 0;
    auto txn = ck::Txn::begin(env, ck::Txn::Mode::read_write);
    REQUIRE(txn.is_ok());
    REQUIRE(mdb_dbi_open(txn->get(), "test", MDB_CREATE, &dbi) == MDB_SUCCESS);
    REQUIRE(txn->commit());
    return dbi;
}

// The value of `key` in `dbi`, read in a transaction of its own.
std::optional<std::string> read_test_db(const ck::LmdbEnv& env, MDB_dbi dbi, const std::string& key)
{
    auto txn = ck::Txn::begin(env, ck::Txn::Mode::read_only);
    REQUIRE(txn.is_ok());
    auto value = txn->get(dbi, key);
    return value ? std::optional<std::string>(*value) : std::nullopt;
}

}  // namespace

TEST_CASE("a new store has schema version 2 and is empty")
{
    TempDir dir;
    auto store = open_store(dir.path());
    CHECK(store->schema_version() == 2);
    CHECK(store->meta("schema_version") == "2");
    CHECK(store->last_seq() == 0);
    CHECK(store->events_from(0, 10).empty());
    CHECK(store->attendee_count() == 0);
    CHECK(store->checkin_count() == 0);
    CHECK(store->trusted_keys().empty());
    CHECK_FALSE(store->meta("device_id").has_value());
    CHECK_FALSE(store->checkin("no-such-id").has_value());
    CHECK_FALSE(store->attendee("no-such-id").has_value());
    CHECK(store->map_size() >= kTestMapSize);
    CHECK(store->used_bytes() > 0);
    CHECK(store->used_bytes() <= store->map_size());
}

TEST_CASE("a reopened store keeps attendees, check-ins, events, keys, revocations and meta")
{
    TempDir dir;
    const ck::SigningKey key = ck::SigningKey::generate();
    ck::CheckinRecord first;
    {
        auto store = open_store(dir.path());
        REQUIRE(store->set_meta("device_id", "lille-hall-a"));
        REQUIRE(store
                    ->import_roster({person("ECNR-1", "Curie", "Marie", "m@example.org", "FR"),
                                     person("ECNR-2", "Broca", "Paul")})
                    .is_ok());
        first = must_record(*store, new_checkin("ECNR-1", "d1-am"), true);
        must_record(*store, new_checkin("ECNR-2", "d1-am"), true);
        REQUIRE(store->add_trusted_key(key.key_id(), key.public_key()));
        REQUIRE(store->revoke("ECNR-2", 1, "re-issued"));
    }
    auto store = open_store(dir.path());
    CHECK(store->schema_version() == 2);
    CHECK(store->meta("device_id") == "lille-hall-a");
    CHECK(store->attendee_count() == 2);
    const auto curie = store->attendee("ECNR-1");
    REQUIRE(curie.has_value());
    CHECK(curie->family_name == "Curie");
    CHECK(curie->given_name == "Marie");
    CHECK(curie->email == "m@example.org");
    CHECK(curie->country == "FR");
    CHECK(store->checkin_count() == 2);
    const auto again = store->checkin(first.id);
    REQUIRE(again.has_value());
    CHECK(again->attendee_id == "ECNR-1");
    CHECK(again->at == first.at);
    CHECK(store->last_seq() == 2);
    CHECK(all_events_contiguous(*store).size() == 2);
    const auto keys = store->trusted_keys();
    REQUIRE(keys.count(key.key_id()) == 1);
    CHECK(keys.at(key.key_id()) == key.public_key());
    CHECK(store->is_revoked("ECNR-2", 1));
    // The sequence continues after a reopen.
    must_record(*store, new_checkin("ECNR-1", "d1-pm"), true);
    CHECK(store->last_seq() == 3);
    CHECK(all_events_contiguous(*store).size() == 3);
}

TEST_CASE("a store of a newer schema is refused")
{
    TempDir dir;
    {
        auto store = open_store(dir.path());
        must_record(*store, new_checkin("ECNR-1", "d1-am"), true);
        REQUIRE(store->set_meta("schema_version", "99"));
    }
    const auto refused = ck::Store::open({.dir = dir.path(), .map_size = kTestMapSize});
    REQUIRE_FALSE(refused.is_ok());
    CHECK(refused.status().code() == "store_too_new");
    CAPTURE(refused.status().message());
    CHECK(refused.status().message().find("99") != std::string::npos);
    CHECK(refused.status().message().find('2') != std::string::npos);
    CHECK_FALSE(refused.status().hint().empty());
    // Refusing must not rewrite the version: the store stays refused.
    const auto still = ck::Store::open({.dir = dir.path(), .map_size = kTestMapSize});
    REQUIRE_FALSE(still.is_ok());
    CHECK(still.status().code() == "store_too_new");
}

TEST_CASE("a store with an invalid schema version is refused as unreadable")
{
    for (const char* version : {"0", "-3", "abc", ""}) {
        CAPTURE(version);
        TempDir dir;
        {
            auto store = open_store(dir.path());
            REQUIRE(store->set_meta("schema_version", version));
        }
        const auto refused = ck::Store::open({.dir = dir.path(), .map_size = kTestMapSize});
        REQUIRE_FALSE(refused.is_ok());
        CHECK(refused.status().code() == "store_unreadable");
    }
}

TEST_CASE("opening a directory that does not exist fails with a Status")
{
    TempDir dir;
    const auto missing = ck::Store::open({.dir = dir.path() + "/absent", .map_size = kTestMapSize});
    REQUIRE_FALSE(missing.is_ok());
    CHECK_FALSE(missing.status().code().empty());
    CHECK(missing.status().message().find(dir.path()) != std::string::npos);
}

TEST_CASE("import_roster counts created, updated and unchanged rows")
{
    TempDir dir;
    auto store = open_store(dir.path());
    struct Step {
        const char* name;
        std::vector<ck::Attendee> rows;
        ck::RosterStats expected;
        std::size_t count_after;
    };
    const Step steps[] = {
        {"first import",
         {person("A1", "Curie", "Marie"), person("A2", "Broca", "Paul"),
          person("A3", "Cajal", "Santiago")},
         {.created = 3, .updated = 0, .unchanged = 0},
         3},
        {"second import: one changed name, one new email, one same, one new",
         {person("A1", "Curie", "Marie"), person("A2", "Broca", "Pierre Paul"),
          person("A3", "Cajal", "Santiago", "sr@example.org"), person("A4", "Wernicke", "Carl")},
         {.created = 1, .updated = 2, .unchanged = 1},
         4},
        {"same again", {person("A4", "Wernicke", "Carl")}, {.unchanged = 1}, 4},
        {"country only", {person("A4", "Wernicke", "Carl", "", "DE")}, {.updated = 1}, 4},
        {"empty import", {}, {}, 4},
    };
    for (const Step& step : steps) {
        CAPTURE(step.name);
        const auto stats = store->import_roster(step.rows);
        REQUIRE(stats.is_ok());
        CHECK(stats->created == step.expected.created);
        CHECK(stats->updated == step.expected.updated);
        CHECK(stats->unchanged == step.expected.unchanged);
        CHECK(store->attendee_count() == step.count_after);
    }
    CHECK(store->attendee("A2")->given_name == "Pierre Paul");
    CHECK(store->attendee("A3")->email == "sr@example.org");
    CHECK(store->attendee("A4")->country == "DE");
    const auto all = store->attendees();
    REQUIRE(all.size() == 4);
    CHECK(all[0].id == "A1");
    CHECK(all[3].id == "A4");
    // The roster is not an event: the outbox stays empty.
    CHECK(store->last_seq() == 0);
}

TEST_CASE("record_checkin: the first check-in per attendee and session wins")
{
    TempDir dir;
    auto store = open_store(dir.path());

    auto first_in = new_checkin("ECNR-1", "d1-am", 1795419000);
    first_in.late = true;
    first_in.clock_untrusted = true;
    first_in.issue = 7;
    const ck::CheckinRecord first = must_record(*store, first_in, true);
    CHECK(first.id.size() == 36);
    CHECK(first.attendee_id == "ECNR-1");
    CHECK(first.session_id == "d1-am");
    CHECK(first.at == instant(1795419000));
    CHECK(first.at_text == first_in.at_text);
    CHECK(first.source == "badge");
    CHECK(first.late);
    CHECK(first.not_in_roster);  // the store has no roster yet: read in the same transaction
    CHECK(first.clock_untrusted);
    CHECK(first.issue == 7);
    CHECK_FALSE(first.voided);

    // A later scan of the same badge in the same session: the first record comes back.
    auto second_in = new_checkin("ECNR-1", "d1-am", 1795419600);
    second_in.source = "phone";
    const ck::CheckinRecord second = must_record(*store, second_in, false);
    CHECK(second.id == first.id);
    CHECK(second.at == first.at);
    CHECK(second.at_text == first.at_text);
    CHECK(second.source == "badge");
    CHECK(second.late);

    // Another session, another attendee, and ids that are prefixes of each other.
    const ck::CheckinRecord pm = must_record(*store, new_checkin("ECNR-1", "d1-pm"), true);
    const ck::CheckinRecord other = must_record(*store, new_checkin("ECNR-10", "d1-am"), true);
    const ck::CheckinRecord prefixed = must_record(*store, new_checkin("ECNR-1", "d1-am2"), true);
    CHECK(pm.id != first.id);
    CHECK(other.id != first.id);
    CHECK(prefixed.id != first.id);
    CHECK(store->checkin_count() == 4);

    struct Lookup {
        const char* attendee;
        const char* session;
        std::string expected_id;  // "" = none
    };
    const Lookup lookups[] = {
        {"ECNR-1", "d1-am", first.id},  {"ECNR-1", "d1-pm", pm.id},
        {"ECNR-10", "d1-am", other.id}, {"ECNR-1", "d1-am2", prefixed.id},
        {"ECNR-10", "d1-pm", ""},       {"ECNR-1", "d1", ""},
        {"ECNR", "d1-am", ""},          {"ECNR-2", "d1-am", ""},
    };
    for (const Lookup& l : lookups) {
        CAPTURE(l.attendee);
        CAPTURE(l.session);
        const auto found = store->find_checkin(l.attendee, l.session);
        if (l.expected_id.empty()) {
            CHECK_FALSE(found.has_value());
        } else {
            REQUIRE(found.has_value());
            CHECK(found->id == l.expected_id);
        }
    }

    struct Listing {
        const char* key;
        bool by_attendee;
        std::vector<std::string> expected_ids;
    };
    const Listing listings[] = {
        {"ECNR-1", true, {first.id, pm.id, prefixed.id}},
        {"ECNR-10", true, {other.id}},
        {"ECNR", true, {}},
        {"d1-am", false, {first.id, other.id}},
        {"d1-pm", false, {pm.id}},
        {"d1-am2", false, {prefixed.id}},
        {"d1", false, {}},
    };
    for (const Listing& l : listings) {
        CAPTURE(l.key);
        auto expected = l.expected_ids;
        std::sort(expected.begin(), expected.end());
        const auto found =
            l.by_attendee ? store->checkins_of_attendee(l.key) : store->checkins_of_session(l.key);
        CHECK(ids_of(found) == expected);
    }

    const auto by_id = store->checkin(first.id);
    REQUIRE(by_id.has_value());
    CHECK(by_id->id == first.id);
    CHECK(by_id->attendee_id == "ECNR-1");
    CHECK(by_id->session_id == "d1-am");
    CHECK(by_id->at == first.at);
    CHECK(by_id->at_text == first.at_text);
    CHECK(by_id->source == "badge");
    CHECK(by_id->late);
    CHECK(by_id->not_in_roster);
    CHECK(by_id->clock_untrusted);
    CHECK(by_id->issue == 7);
    CHECK_FALSE(by_id->voided);
}

TEST_CASE("record_checkin and hold_checkin read the attendee in their transaction")
{
    TempDir dir;
    auto store = open_store(dir.path());
    REQUIRE(store->import_roster({person("ECNR-7", "Nowak", "Ewa")}).is_ok());
    int committed = 0;
    store->on_events_committed([&committed] { ++committed; });

    auto known = store->record_checkin(new_checkin("ECNR-7", "d1-am"));
    REQUIRE(known.is_ok());
    REQUIRE(known->attendee.has_value());
    CHECK(known->attendee->family_name == "Nowak");
    CHECK_FALSE(known->record.not_in_roster);
    CHECK(committed == 1);

    auto again = store->record_checkin(new_checkin("ECNR-7", "d1-am", 1795419600));
    REQUIRE(again.is_ok());
    CHECK_FALSE(again->created);
    REQUIRE(again->attendee.has_value());
    CHECK(committed == 1);  // nothing new: no event, no wake-up

    auto stranger = store->record_checkin(new_checkin("ECNR-8", "d1-am"));
    REQUIRE(stranger.is_ok());
    CHECK_FALSE(stranger->attendee.has_value());
    CHECK(stranger->record.not_in_roster);
    CHECK(committed == 2);

    ck::HeldCheckin held;
    held.id = ck::new_uuid();
    held.attendee_id = "ECNR-7";
    held.source = "badge";
    auto kept = store->hold_checkin(held);
    REQUIRE(kept.is_ok());
    REQUIRE(kept->attendee.has_value());
    CHECK(kept->attendee->given_name == "Ewa");
    CHECK(committed == 2);  // a held check-in is not an event until it is filed

    auto voided = store->void_checkin("ecnr-2026-2-m3", known->record.id, "test",
                                      {"staff", instant(1795419700), "2026-11-23T08:35:00Z"});
    REQUIRE(voided.is_ok());
    CHECK(committed == 3);
}

TEST_CASE("checkin_to_json and checkin_from_json round-trip")
{
    ck::CheckinRecord r;
    r.id = ck::new_uuid();
    r.attendee_id = "ECNR-1";
    r.session_id = "d1-am";
    r.at = instant(1795419000);
    r.at_text = "2026-11-23T08:30:00+01:00";
    r.source = "manual";
    r.late = true;
    r.staff = "Anna";
    r.issue = 65535;
    r.voided = true;
    r.void_reason = "scanned by mistake";
    const auto back = ck::checkin_from_json(ck::checkin_to_json(r));
    REQUIRE(back.has_value());
    CHECK(back->id == r.id);
    CHECK(back->at == r.at);
    CHECK(back->at_text == r.at_text);
    CHECK(back->source == "manual");
    CHECK(back->late);
    CHECK(back->staff == "Anna");
    CHECK(back->issue == 65535);
    CHECK(back->voided);
    CHECK(back->void_reason == "scanned by mistake");

    // The one shape answers and exports show: the local time is the recorded one's HH:MM.
    CHECK(ck::checkin_to_json(r)["local_time"] == "08:30");

    auto broken = ck::checkin_to_json(r);
    broken.erase("session_id");
    CHECK_FALSE(ck::checkin_from_json(broken).has_value());
    CHECK_FALSE(ck::checkin_from_json(nlohmann::json::array()).has_value());
}

TEST_CASE("each created check-in appends exactly one checkin event")
{
    TempDir dir;
    auto store = open_store(dir.path());
    struct Step {
        const char* attendee;
        const char* session;
        const char* source;
        bool created;
    };
    const Step steps[] = {
        {"ECNR-1", "d1-am", "badge", true},   {"ECNR-2", "d1-am", "phone", true},
        {"ECNR-1", "d1-am", "badge", false},  {"ECNR-1", "d1-pm", "manual", true},
        {"ECNR-2", "d1-am", "manual", false}, {"ECNR-3", "d1-pm", "badge", true},
    };
    std::vector<ck::CheckinRecord> created;
    for (const Step& step : steps) {
        CAPTURE(step.attendee);
        CAPTURE(step.session);
        const std::uint64_t before = store->last_seq();
        auto c = new_checkin(step.attendee, step.session);
        c.source = step.source;
        if (std::string_view(step.source) == "manual") c.staff = "Anna";
        const auto record = must_record(*store, c, step.created);
        CHECK(store->last_seq() == before + (step.created ? 1 : 0));
        if (step.created) created.push_back(record);
    }
    REQUIRE(created.size() == 4);
    const auto events = all_events_contiguous(*store);
    REQUIRE(events.size() == 4);
    for (std::size_t i = 0; i < events.size(); ++i) {
        CAPTURE(i);
        const auto& body = events[i].body;
        const auto& record = created[i];
        CHECK(body.value("type", "") == "checkin");
        CHECK(body.value("id", "") == record.id);
        CHECK(body.value("module_id", "") == "ecnr-2026-2-m3");
        CHECK(body.value("attendee_id", "") == record.attendee_id);
        CHECK(body.value("session_id", "") == record.session_id);
        CHECK(body.value("source", "") == record.source);
        CHECK(body.value("at", "") == record.at_text);
    }
    CHECK(events[2].body.value("staff", "") == "Anna");
    CHECK_FALSE(events[0].body.contains("staff"));

    struct Page {
        std::uint64_t first;
        std::size_t limit;
        std::vector<std::uint64_t> seqs;
    };
    const Page pages[] = {
        {0, 10, {1, 2, 3, 4}}, {1, 10, {1, 2, 3, 4}}, {1, 2, {1, 2}}, {3, 2, {3, 4}}, {2, 1, {2}},
        {4, 10, {4}},          {5, 10, {}},           {1, 0, {}},     {1000, 10, {}},
    };
    for (const Page& page : pages) {
        CAPTURE(page.first);
        CAPTURE(page.limit);
        std::vector<std::uint64_t> seqs;
        for (const auto& e : store->events_from(page.first, page.limit)) seqs.push_back(e.seq);
        CHECK(seqs == page.seqs);
    }
}

TEST_CASE("racing check-ins of the same attendee in the same session: exactly one wins")
{
    TempDir dir;
    auto store = open_store(dir.path());
    constexpr int kThreads = 8;
    std::vector<ck::Result<ck::CheckinOutcome>> results(kThreads, ck::Status{});
    std::latch start(kThreads);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            auto c = new_checkin("ECNR-1", "d1-am", 1795419000 + t);
            start.arrive_and_wait();
            results[static_cast<std::size_t>(t)] = store->record_checkin(c);
        });
    }
    for (auto& thread : threads) thread.join();

    int created = 0;
    std::set<std::string> ids;
    std::set<std::int64_t> times;
    for (const auto& r : results) {
        REQUIRE_MESSAGE(r.is_ok(), r.status().message());
        if (r->created) ++created;
        ids.insert(r->record.id);
        times.insert(r->record.at.time_since_epoch().count());
    }
    CHECK(created == 1);
    CHECK(ids.size() == 1);
    CHECK(times.size() == 1);  // every caller sees the winner's record
    CHECK(store->checkin_count() == 1);
    CHECK(store->last_seq() == 1);
    const auto events = all_events_contiguous(*store);
    REQUIRE(events.size() == 1);
    CHECK(events[0].body.value("id", "") == *ids.begin());
}

TEST_CASE("many threads of distinct check-ins: all created, sequence without gaps")
{
    TempDir dir;
    auto store = open_store(dir.path());
    constexpr int kThreads = 16;
    constexpr int kPerThread = 50;
    std::vector<std::vector<std::string>> ids(kThreads);
    std::vector<int> failures(kThreads, 0);
    std::latch start(kThreads);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            start.arrive_and_wait();
            for (int i = 0; i < kPerThread; ++i) {
                auto c = new_checkin("T" + std::to_string(t) + "-" + std::to_string(i), "d1-am");
                auto r = store->record_checkin(c);
                if (!r.is_ok() || !r->created) {
                    ++failures[static_cast<std::size_t>(t)];
                    continue;
                }
                ids[static_cast<std::size_t>(t)].push_back(r->record.id);
            }
        });
    }
    for (auto& thread : threads) thread.join();

    for (int f : failures) CHECK(f == 0);
    std::set<std::string> all_ids;
    for (const auto& per_thread : ids) all_ids.insert(per_thread.begin(), per_thread.end());
    CHECK(all_ids.size() == kThreads * kPerThread);
    CHECK(store->last_seq() == kThreads * kPerThread);
    CHECK(store->checkin_count() == kThreads * kPerThread);
    CHECK(store->checkins_of_session("d1-am").size() == kThreads * kPerThread);

    const auto events = all_events_contiguous(*store);
    std::set<std::string> event_ids;
    for (const auto& e : events) event_ids.insert(e.body.value("id", ""));
    CHECK(event_ids == all_ids);
    CHECK(store->write_queue().jobs() >= kThreads * kPerThread);
    CHECK(store->write_queue().batches() >= 1);
    MESSAGE("group commit: ", store->write_queue().jobs(), " jobs in ",
            store->write_queue().batches(), " batches");
}

TEST_CASE("Txn: a read LMDB fails keeps the transaction from committing")
{
    TempDir dir;
    ck::LmdbEnv env;
    const MDB_dbi dbi = open_test_db(env, dir.path());
    const MDB_dbi no_such_dbi = dbi + 100;  // LMDB answers EINVAL, not MDB_NOTFOUND
    auto stored = [&](const std::string& key) { return read_test_db(env, dbi, key).has_value(); };

    SUBCASE("an absent key is not a failure")
    {
        auto txn = ck::Txn::begin(env, ck::Txn::Mode::read_write);
        REQUIRE(txn.is_ok());
        CHECK_FALSE(txn->get(dbi, "absent").has_value());
        REQUIRE(txn->put(dbi, "written", "1"));
        CHECK(txn->commit());
        CHECK(stored("written"));
    }
    SUBCASE("get")
    {
        auto txn = ck::Txn::begin(env, ck::Txn::Mode::read_write);
        REQUIRE(txn.is_ok());
        CHECK_FALSE(txn->get(no_such_dbi, "key").has_value());
        REQUIRE(txn->put(dbi, "written", "1"));
        const ck::Status committed = txn->commit();
        CHECK(committed.code() == "storage_error");
        CHECK(committed.message().find("reading the store") != std::string::npos);
        CHECK_FALSE(stored("written"));
    }
    SUBCASE("scan and entries")
    {
        auto txn = ck::Txn::begin(env, ck::Txn::Mode::read_write);
        REQUIRE(txn.is_ok());
        CHECK(txn->entries(no_such_dbi) == 0);
        REQUIRE(txn->put(dbi, "written", "1"));
        CHECK_FALSE(txn->commit());
        CHECK_FALSE(stored("written"));

        auto again = ck::Txn::begin(env, ck::Txn::Mode::read_write);
        REQUIRE(again.is_ok());
        int visited = 0;
        again->scan(no_such_dbi, "", [&](std::string_view, std::string_view) {
            ++visited;
            return true;
        });
        CHECK(visited == 0);
        REQUIRE(again->put(dbi, "written", "1"));
        CHECK_FALSE(again->commit());
        CHECK_FALSE(stored("written"));
    }
}

TEST_CASE("WriteQueue: a failing job is rolled back alone")
{
    TempDir dir;
    ck::LmdbEnv env;
    const MDB_dbi dbi = open_test_db(env, dir.path());
    auto read = [&](const std::string& key) { return read_test_db(env, dbi, key); };

    ck::WriteQueue queue(env);

    SUBCASE("one caller after another")
    {
        CHECK(queue.run([&](ck::Txn& txn) { return txn.put(dbi, "a", "1"); }));
        const ck::Status failed = queue.run([&](ck::Txn& txn) -> ck::Status {
            if (ck::Status s = txn.put(dbi, "bad", "x"); !s) return s;
            return ck::Status::error(ck::err::module_closed, "this job fails", "none");
        });
        CHECK(failed.code() == "module_closed");
        CHECK(failed.message() == "this job fails");
        const ck::Status thrown = queue.run([&](ck::Txn& txn) -> ck::Status {
            (void)txn.put(dbi, "thrown", "x");
            throw std::runtime_error("boom");
        });
        CHECK(thrown.code() == "internal_error");
        CHECK(thrown.message().find("boom") != std::string::npos);
        CHECK(queue.run([&](ck::Txn& txn) { return txn.put(dbi, "b", "2"); }));
        CHECK(read("a") == "1");
        CHECK(read("b") == "2");
        CHECK_FALSE(read("bad").has_value());
        CHECK_FALSE(read("thrown").has_value());
        CHECK(queue.jobs() == 4);
    }

    SUBCASE("failing jobs in the same batch as good ones")
    {
        // A first job holds the writer until every other caller is about to enqueue, so the
        // callers very likely land in one batch. Correctness is asserted either way.
        constexpr int kCallers = 12;
        std::latch ready(kCallers + 1);
        std::vector<ck::Status> results(kCallers);
        std::thread holder([&] {
            CHECK(queue.run([&](ck::Txn& txn) {
                ready.arrive_and_wait();
                return txn.put(dbi, "holder", "h");
            }));
        });
        std::vector<std::thread> callers;
        for (int i = 0; i < kCallers; ++i) {
            callers.emplace_back([&, i] {
                const std::string key = "k" + std::to_string(i);
                ready.arrive_and_wait();
                results[static_cast<std::size_t>(i)] =
                    queue.run([&, i](ck::Txn& txn) -> ck::Status {
                        if (ck::Status s = txn.put(dbi, key, "v"); !s) return s;
                        if (i % 3 == 1) return ck::Status::error(ck::err::module_closed, key);
                        if (i % 3 == 2) throw std::runtime_error(key);
                        return ck::Status::ok();
                    });
            });
        }
        holder.join();
        for (auto& t : callers) t.join();

        CHECK(read("holder") == "h");
        for (int i = 0; i < kCallers; ++i) {
            CAPTURE(i);
            const std::string key = "k" + std::to_string(i);
            const ck::Status& s = results[static_cast<std::size_t>(i)];
            switch (i % 3) {
                case 0:
                    CHECK(s.is_ok());
                    CHECK(read(key) == "v");
                    break;
                case 1:
                    CHECK(s.code() == "module_closed");
                    CHECK(s.message() == key);
                    CHECK_FALSE(read(key).has_value());
                    break;
                default:
                    CHECK(s.code() == "internal_error");
                    CHECK_FALSE(read(key).has_value());
                    break;
            }
        }
        CHECK(queue.jobs() == kCallers + 1);
        MESSAGE("failing-job batch test: ", queue.jobs(), " jobs in ", queue.batches(), " batches");
    }
}

TEST_CASE("a full map fails writes with storage_full, loses nothing, and recovers")
{
    // The smallest map size this store opens with, found by trying.
    std::size_t tiny = 0;
    for (std::size_t pages = 2; pages <= 64 && tiny == 0; ++pages) {
        TempDir probe;
        if (ck::Store::open({.dir = probe.path(), .map_size = pages * 4096}).is_ok())
            tiny = pages * 4096;
    }
    REQUIRE(tiny != 0);
    MESSAGE("smallest map size that opens: ", tiny, " bytes");

    for (const std::size_t map_size : {tiny, std::size_t{64} << 10, std::size_t{256} << 10}) {
        CAPTURE(map_size);
        TempDir dir;
        std::vector<ck::CheckinRecord> recorded;
        std::uint64_t last_seq = 0;
        {
            auto store = open_store(dir.path(), map_size);
            auto attempt = [&](const std::string& attendee) -> ck::Status {
                auto r = store->record_checkin(new_checkin(attendee, "d1-am"));
                if (!r.is_ok()) return r.status();
                CHECK(r->created);
                recorded.push_back(r->record);
                return ck::Status::ok();
            };
            ck::Status failure;
            for (int i = 0; i < 100'000 && failure.is_ok(); ++i) {
                failure = attempt("ECNR-" + std::to_string(i));
            }
            REQUIRE_FALSE(failure.is_ok());
            CHECK(failure.code() == "storage_full");
            CHECK_FALSE(failure.hint().empty());
            MESSAGE("map of ", map_size, " bytes full after ", recorded.size(),
                    " check-ins: ", failure.message());

            // Later writes near the limit either succeed or fail the same way, never
            // otherwise (LMDB may find a freed page for one more).
            for (int i = 0; i < 20; ++i) {
                const ck::Status s = attempt("ECNR-again-" + std::to_string(i));
                if (!s) CHECK(s.code() == "storage_full");
            }
            // A duplicate needs no space: it answers with the first record.
            if (!recorded.empty()) {
                auto duplicate =
                    store->record_checkin(new_checkin(recorded[0].attendee_id, "d1-am"));
                REQUIRE(duplicate.is_ok());
                CHECK_FALSE(duplicate->created);
                CHECK(duplicate->record.id == recorded[0].id);
            }

            // Everything answered as created is there, with one event each, no gap.
            last_seq = store->last_seq();
            CHECK(last_seq == recorded.size());
            CHECK(store->checkin_count() == recorded.size());
            const auto events = all_events_contiguous(*store);
            REQUIRE(events.size() == recorded.size());
            for (std::size_t i = 0; i < recorded.size(); ++i) {
                CAPTURE(i);
                CHECK(events[i].body.value("id", "") == recorded[i].id);
                const auto found = store->checkin(recorded[i].id);
                REQUIRE(found.has_value());
                CHECK(found->attendee_id == recorded[i].attendee_id);
            }
        }

        // Reopened with room to grow: writes succeed and the sequence continues.
        auto store = open_store(dir.path(), std::size_t{8} << 20);
        CHECK(store->last_seq() == last_seq);
        CHECK(store->checkin_count() == recorded.size());
        const auto next = must_record(*store, new_checkin("ECNR-after", "d1-am"), true);
        CHECK(store->last_seq() == last_seq + 1);
        const auto events = all_events_contiguous(*store);
        REQUIRE_FALSE(events.empty());
        CHECK(events.back().body.value("id", "") == next.id);
        for (const auto& r : recorded) {
            const auto found = store->find_checkin(r.attendee_id, "d1-am");
            REQUIRE(found.has_value());
            CHECK(found->id == r.id);
        }
    }
}

TEST_CASE("trusted keys and revocations")
{
    TempDir dir;
    auto store = open_store(dir.path());
    const ck::SigningKey a = ck::SigningKey::generate();
    const ck::SigningKey b = ck::SigningKey::generate().with_key_id(0xfedcba98);
    const ck::SigningKey zero = ck::SigningKey::generate().with_key_id(0);
    for (const auto* key : {&a, &b, &zero}) {
        REQUIRE(store->add_trusted_key(key->key_id(), key->public_key()));
    }
    auto keys = store->trusted_keys();
    REQUIRE(keys.size() == 3);
    CHECK(keys.at(a.key_id()) == a.public_key());
    CHECK(keys.at(0xfedcba98) == b.public_key());
    CHECK(keys.at(0) == zero.public_key());

    // Adding a key under an existing id replaces it.
    const ck::SigningKey replacement = ck::SigningKey::generate().with_key_id(0xfedcba98);
    REQUIRE(store->add_trusted_key(0xfedcba98, replacement.public_key()));
    keys = store->trusted_keys();
    CHECK(keys.size() == 3);
    CHECK(keys.at(0xfedcba98) == replacement.public_key());

    REQUIRE(store->revoke("ECNR-1", 2, "re-issued"));
    REQUIRE(store->revoke("ECNR-7", 300, "lost"));
    struct Case {
        const char* attendee;
        std::uint16_t issue;
        bool revoked;
    };
    const Case cases[] = {
        {"ECNR-1", 2, true},    {"ECNR-1", 1, false},   {"ECNR-1", 3, false},
        {"ECNR-1", 258, false}, {"ECNR-1", 512, false}, {"ECNR-2", 2, false},
        {"ECNR-10", 2, false},  {"ECNR-", 2, false},    {"ECNR-7", 300, true},
        {"ECNR-7", 44, false},  {"ECNR-7", 1, false},
    };
    for (const Case& c : cases) {
        CAPTURE(c.attendee);
        CAPTURE(c.issue);
        CHECK(store->is_revoked(c.attendee, c.issue) == c.revoked);
    }
    // Keys and revocations are not events.
    CHECK(store->last_seq() == 0);
}

// Found by tests/fuzz (registry_roster): a module_id of another type threw from the
// relay's thread, which ended the server.
TEST_CASE("parse_registry_roster refuses fields of the wrong type without throwing")
{
    const auto outcome = [](const std::string& text) -> std::string {
        try {
            auto roster = ck::parse_registry_roster(text, "ecnr-2026-2-m3");
            return roster ? "ok" : roster.status().code();
        } catch (const std::exception& e) {
            return std::string("threw: ") + e.what();
        }
    };
    const std::string rest = R"("attendees": [], "revoked": [], "keys": []})";
    struct Case {
        std::string text;
        const char* expected;
    };
    const Case cases[] = {
        {R"({"module_id": "ecnr-2026-2-m3", )" + rest, "ok"},
        {R"({"module_id": "ecnr-2026-1-m1", )" + rest, "bad_roster"},
        {R"({"module_id": ["ecnr-2026-2-m3"], )" + rest, "bad_roster"},
        {R"({"module_id": 3, )" + rest, "bad_roster"},
        {R"({"module_id": null, )" + rest, "bad_roster"},
        {R"({"module_id": {}, )" + rest, "bad_roster"},
        {"{" + rest, "bad_roster"},
        {R"({"module_id": "ecnr-2026-2-m3", "attendees": {}, "revoked": [], "keys": []})",
         "bad_roster"},
        {R"({"module_id": "ecnr-2026-2-m3", "attendees": [], "revoked": [{"attendee_id": 1,
            "issue": 1}], "keys": []})",
         "bad_roster"},
        {R"({"module_id": "ecnr-2026-2-m3", "attendees": [], "revoked": [], "keys":
            [{"key_id": 1, "public_key": []}]})",
         "bad_roster"},
    };
    for (const Case& c : cases) {
        CAPTURE(c.text);
        CHECK(outcome(c.text) == c.expected);
    }
}

TEST_CASE("reissue revokes the current badge and moves to the next issue")
{
    TempDir dir;
    {
        auto store = open_store(dir.path());
        CHECK(store->current_issue("ECNR-1") == 1);
        CHECK_FALSE(store->is_revoked("ECNR-1", 1));
        for (const int next : {2, 3, 4}) {
            CAPTURE(next);
            const auto issued = store->reissue("ECNR-1", "lost");
            REQUIRE(issued.is_ok());
            CHECK(*issued == next);
            CHECK(store->current_issue("ECNR-1") == next);
            for (int issue = 1; issue <= 5; ++issue) {
                CAPTURE(issue);
                CHECK(store->is_revoked("ECNR-1", static_cast<std::uint16_t>(issue)) ==
                      (issue < next));
            }
        }
        // Other attendees, including one whose id extends this one, are untouched.
        CHECK(store->current_issue("ECNR-10") == 1);
        CHECK_FALSE(store->is_revoked("ECNR-10", 1));
        CHECK(store->last_seq() == 0);
    }
    auto store = open_store(dir.path());
    CHECK(store->current_issue("ECNR-1") == 4);
    CHECK(store->is_revoked("ECNR-1", 3));
    CHECK_FALSE(store->is_revoked("ECNR-1", 4));
}

TEST_CASE("new_uuid: version 7, lower-case hex 8-4-4-4-12, unique, in time order")
{
    std::set<std::string> seen;
    const auto before = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
    std::string previous_time;
    for (int i = 0; i < 1000; ++i) {
        const std::string id = ck::new_uuid();
        CAPTURE(id);
        REQUIRE(id.size() == 36);
        for (std::size_t p = 0; p < id.size(); ++p) {
            if (p == 8 || p == 13 || p == 18 || p == 23) {
                REQUIRE(id[p] == '-');
            } else {
                REQUIRE(is_lower_hex(id[p]));
            }
        }
        CHECK(id[14] == '7');
        CHECK(std::string_view("89ab").find(id[19]) != std::string_view::npos);
        // The first 48 bits are the Unix time in milliseconds, never decreasing.
        const std::string time_hex = id.substr(0, 8) + id.substr(9, 4);
        CHECK(time_hex >= previous_time);
        previous_time = time_hex;
        CHECK(std::stoll(time_hex, nullptr, 16) >= before);
        seen.insert(id);
    }
    CHECK(seen.size() == 1000);
}

TEST_CASE("encode_u64 sorts like the numbers it encodes")
{
    const std::uint64_t values[] = {0, 1, 255, 256, 65535, 65536, 1ULL << 32, ~0ULL};
    for (std::size_t i = 0; i < std::size(values); ++i) {
        CAPTURE(values[i]);
        CHECK(ck::encode_u64(values[i]).size() == 8);
        CHECK(ck::decode_u64(ck::encode_u64(values[i])) == values[i]);
        if (i > 0) CHECK(ck::encode_u64(values[i - 1]) < ck::encode_u64(values[i]));
    }
}

TEST_CASE("the roster and a session's unrostered attendees read in pieces, in id order")
{
    TempDir dir;
    auto store = open_store(dir.path());
    // "A1" is a prefix of "A10": the piece after A1 must still start at A10.
    std::vector<ck::Attendee> roster;
    for (const char* id : {"A1", "A10", "A2", "B", "C7"}) roster.push_back(person(id, "F", "G"));
    REQUIRE(store->import_roster(roster).is_ok());

    auto ids = [](const std::vector<ck::Attendee>& piece) {
        std::string out;
        for (const auto& a : piece) out += (out.empty() ? "" : " ") + a.id;
        return out;
    };
    CHECK(ids(store->attendees_after("", 2)) == "A1 A10");
    CHECK(ids(store->attendees_after("A1", 2)) == "A10 A2");
    CHECK(ids(store->attendees_after("A10", 2)) == "A2 B");
    CHECK(ids(store->attendees_after("B", 2)) == "C7");
    CHECK(ids(store->attendees_after("C7", 2)).empty());
    CHECK(ids(store->attendees_after("", 0)).empty());
    CHECK(ids(store->attendees_after("A", 10)) == "A1 A10 A2 B C7");  // not an id: the next

    // Not in the roster: X1 twice in d1-am (a voided check-in and a new one), X10 and X2;
    // rostered A1 is left out; d1-pm has X3 only.
    must_record(*store, new_checkin("X1", "d1-am"), true);
    must_record(*store, new_checkin("X10", "d1-am"), true);
    must_record(*store, new_checkin("A1", "d1-am"), true);
    auto first = must_record(*store, new_checkin("X2", "d1-am"), true);
    REQUIRE(store->void_checkin("ecnr-2026-2-m3", first.id, "wrong", {"maria", instant(0), ""})
                .is_ok());
    must_record(*store, new_checkin("X2", "d1-am"), true);
    must_record(*store, new_checkin("X3", "d1-pm"), true);
    auto join = [](const std::vector<std::string>& list) {
        std::string out;
        for (const auto& id : list) out += (out.empty() ? "" : " ") + id;
        return out;
    };
    CHECK(join(store->unrostered_attendees_in_session("d1-am", "", 10)) == "X1 X10 X2");
    CHECK(join(store->unrostered_attendees_in_session("d1-am", "", 2)) == "X1 X10");
    CHECK(join(store->unrostered_attendees_in_session("d1-am", "X1", 2)) == "X10 X2");
    CHECK(join(store->unrostered_attendees_in_session("d1-am", "X2", 2)).empty());
    CHECK(join(store->unrostered_attendees_in_session("d1-pm", "", 10)) == "X3");
    CHECK(join(store->unrostered_attendees_in_session("d1", "", 10)).empty());  // a prefix only
}

TEST_CASE("a schema 1 store opens as schema 2: its staff accounts become enabled admins")
{
    TempDir dir;
    {
        auto store = open_store(dir.path());
    }
    {
        // What version 1 wrote: an account without a role, and version "1".
        ck::LmdbEnv env;
        REQUIRE(env.open(dir.path(), kTestMapSize, 32));
        auto txn = ck::Txn::begin(env, ck::Txn::Mode::read_write);
        REQUIRE(txn.is_ok());
        MDB_dbi staff = 0;
        MDB_dbi meta = 0;
        REQUIRE(mdb_dbi_open(txn->get(), "staff", 0, &staff) == MDB_SUCCESS);
        REQUIRE(mdb_dbi_open(txn->get(), "meta", 0, &meta) == MDB_SUCCESS);
        REQUIRE(txn->put(staff, "maria", R"({"password_hash":"scrypt$x"})"));
        REQUIRE(txn->put(meta, "schema_version", "1"));
        REQUIRE(txn->commit());
    }
    auto store = open_store(dir.path());
    CHECK(store->schema_version() == 2);
    auto maria = store->staff("maria");
    REQUIRE(maria.has_value());
    CHECK(maria->role == ck::StaffRole::admin);
    CHECK_FALSE(maria->disabled);
    CHECK(maria->password_hash == "scrypt$x");
    CHECK(maria->created.empty());
    // An account written now keeps its role and flag through a reopen.
    ck::StaffAccount desk;
    desk.username = "desk";
    desk.password_hash = "scrypt$y";
    desk.role = ck::StaffRole::staff;
    desk.disabled = true;
    REQUIRE(store->put_staff(desk));
    store.reset();
    store = open_store(dir.path());
    auto back = store->staff("desk");
    REQUIRE(back.has_value());
    CHECK(back->role == ck::StaffRole::staff);
    CHECK(back->disabled);
    CHECK(store->staff("maria")->role == ck::StaffRole::admin);
}

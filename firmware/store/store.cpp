#include "store/store.hpp"

#include "store/store_internal.hpp"

#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>

namespace ck {
namespace {

using namespace store_detail;

Attendee attendee_from_json(std::string_view id, const nlohmann::json& json)
{
    Attendee a;
    a.id = std::string(id);
    a.family_name = json.value("family_name", "");
    a.given_name = json.value("given_name", "");
    a.email = json.value("email", "");
    a.country = json.value("country", "");
    return a;
}

// A positive decimal number, or 0 for anything else ("1abc" is not version 1).
int parse_schema_version(std::string_view text)
{
    if (text.empty() || text.size() > 6) return 0;
    int value = 0;
    for (char ch : text) {
        if (ch < '0' || ch > '9') return 0;
        value = value * 10 + (ch - '0');
    }
    return value;
}

}  // namespace

std::string new_uuid()
{
    // Version 7 (RFC 9562): 48 bits of Unix milliseconds, then random bits. Ids made close
    // in time sort close together, so a batch of new check-ins lands in the B-tree's last
    // leaf page instead of dirtying (and keeping in memory) a random page each. The time
    // is never decreasing within a run, even if the wall clock steps back.
    static std::atomic<std::uint64_t> last_ms{0};
    const auto wall = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::system_clock::now().time_since_epoch());
    std::uint64_t ms = static_cast<std::uint64_t>(std::max<std::int64_t>(0, wall.count()));
    std::uint64_t seen = last_ms.load();
    while (seen < ms && !last_ms.compare_exchange_weak(seen, ms)) {
    }
    ms = std::max(ms, seen);

    std::array<unsigned char, 16> b{};
    if (RAND_bytes(b.data() + 6, 10) != 1) {
        throw std::runtime_error("the random number generator failed");
    }
    for (int i = 0; i < 6; ++i)
        b[static_cast<std::size_t>(i)] = static_cast<unsigned char>(ms >> (40 - 8 * i));
    b[6] = static_cast<unsigned char>((b[6] & 0x0f) | 0x70);
    b[8] = static_cast<unsigned char>((b[8] & 0x3f) | 0x80);
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    out.reserve(36);
    for (std::size_t i = 0; i < b.size(); ++i) {
        if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
        out.push_back(kHex[b[i] >> 4]);
        out.push_back(kHex[b[i] & 0x0f]);
    }
    return out;
}

Result<std::unique_ptr<Store>> Store::open(const StoreOptions& options)
{
    std::unique_ptr<Store> store(new Store());
    if (Status s = store->env_.open(options.dir, options.map_size, 32); !s) return s;
    if (Status s = store->open_databases(); !s) return s;
    store->writes_ = std::make_unique<WriteQueue>(store->env_);
    return store;
}

Store::~Store()
{
    writes_.reset();  // drain pending writes before the environment closes
}

Status Store::open_databases()
{
    auto txn = Txn::begin(env_, Txn::Mode::read_write);
    if (!txn) return txn.status();
    struct Named {
        const char* name;
        MDB_dbi* dbi;
    };
    const Named dbs[] = {{"meta", &meta_},
                         {"attendees", &attendees_},
                         {"checkins", &checkins_},
                         {"checkin_by_attendee", &checkin_by_attendee_},
                         {"checkin_by_session", &checkin_by_session_},
                         {"events", &events_},
                         {"keys", &keys_},
                         {"revoked", &revoked_},
                         {"issues", &issues_},
                         {"session_counts", &session_counts_},
                         {"completions", &completions_},
                         {"staff", &staff_},
                         {"staff_sessions", &staff_sessions_},
                         {"audit", &audit_},
                         {"held", &held_}};
    for (const auto& db : dbs) {
        int rc = mdb_dbi_open(txn->get(), db.name, MDB_CREATE, db.dbi);
        if (rc != MDB_SUCCESS) return lmdb_status(rc, std::string("opening database ") + db.name);
    }
    auto version = txn->get(meta_, "schema_version");
    if (!version) {
        if (Status s = txn->put(meta_, "schema_version", std::to_string(kStoreSchemaVersion)); !s)
            return s;
    } else {
        int found = parse_schema_version(*version);
        if (found > kStoreSchemaVersion) {
            return Status::error(
                err::store_too_new,
                "the store has schema version " + std::to_string(found) +
                    ", newer than this program's " + std::to_string(kStoreSchemaVersion),
                "Install the course-kiosk version that wrote this store, or use a new data "
                "directory.");
        }
        if (found < 1) {
            return Status::error(err::store_unreadable, "the store's schema version is invalid",
                                 "Use a new data directory and restore from an export.");
        }
        if (found < 2) {
            if (Status s = migrate_staff_roles(*txn); !s) return s;
            if (Status s = txn->put(meta_, "schema_version", std::to_string(kStoreSchemaVersion));
                !s)
                return s;
        }
    }
    return txn->commit();
}

std::optional<std::string> Store::meta(std::string_view key) const
{
    auto txn = read();
    if (!txn) return std::nullopt;
    auto v = txn->get(meta_, key);
    if (!v) return std::nullopt;
    return std::string(*v);
}

Status Store::set_meta(std::string_view key, std::string_view value)
{
    return writes_->run([&](Txn& txn) { return txn.put(meta_, key, value); });
}

int Store::schema_version() const
{
    auto v = meta("schema_version");
    return v ? parse_schema_version(*v) : 0;
}

std::optional<Attendee> Store::attendee(std::string_view id) const
{
    auto txn = read();
    if (!txn) return std::nullopt;
    return read_attendee(*txn, id);
}

std::optional<Attendee> Store::read_attendee(const Txn& txn, std::string_view id) const
{
    auto v = txn.get(attendees_, id);
    if (!v) return std::nullopt;
    auto json = parse_json(*v);
    if (!json) return std::nullopt;
    return attendee_from_json(id, *json);
}

std::vector<Attendee> Store::attendees() const
{
    std::vector<Attendee> out;
    auto txn = read();
    if (!txn) return out;
    txn->scan(attendees_, "", [&](std::string_view key, std::string_view value) {
        if (auto json = parse_json(value)) out.push_back(attendee_from_json(key, *json));
        return true;
    });
    return out;
}

std::vector<Attendee> Store::attendees_after(std::string_view after, std::size_t limit) const
{
    std::vector<Attendee> out;
    auto txn = read();
    if (!txn || limit == 0) return out;
    out.reserve(std::min<std::size_t>(limit, 1024));
    txn->scan(attendees_, after, [&](std::string_view key, std::string_view value) {
        if (key == after) return true;  // the last of the previous piece
        if (auto json = parse_json(value)) out.push_back(attendee_from_json(key, *json));
        return out.size() < limit;
    });
    return out;
}

std::vector<Attendee> Store::attendees_with_id_ignoring_case(std::string_view id) const
{
    auto lower = [](char ch) {
        return ch >= 'A' && ch <= 'Z' ? static_cast<char>(ch - 'A' + 'a') : ch;
    };
    std::vector<Attendee> out;
    auto txn = read();
    if (!txn) return out;
    txn->scan(attendees_, "", [&](std::string_view key, std::string_view value) {
        if (std::equal(key.begin(), key.end(), id.begin(), id.end(),
                       [&](char a, char b) { return lower(a) == lower(b); })) {
            if (auto json = parse_json(value)) out.push_back(attendee_from_json(key, *json));
        }
        return true;
    });
    return out;
}

std::size_t Store::attendee_count() const
{
    auto txn = read();
    return txn ? txn->entries(attendees_) : 0;
}

Status Store::upsert_attendees(Txn& txn, const std::vector<Attendee>& attendees, RosterStats& stats)
{
    for (const auto& a : attendees) {
        nlohmann::json json = {{"family_name", a.family_name},
                               {"given_name", a.given_name},
                               {"email", a.email},
                               {"country", a.country}};
        std::string value = json.dump();
        auto old = txn.get(attendees_, a.id);
        if (old && *old == value) {
            ++stats.unchanged;
            continue;
        }
        if (Status put = txn.put(attendees_, a.id, value); !put) return put;
        ++(old ? stats.updated : stats.created);
    }
    return Status::ok();
}

Result<RosterStats> Store::import_roster(const std::vector<Attendee>& attendees)
{
    RosterStats stats;
    Status s = writes_->run([&](Txn& txn) {
        stats = {};
        return upsert_attendees(txn, attendees, stats);
    });
    if (!s) return s;
    return stats;
}

Status Store::add_attendee(const Attendee& attendee, const Actor& actor, Attendee* existing)
{
    auto lower = [](char ch) {
        return ch >= 'A' && ch <= 'Z' ? static_cast<char>(ch - 'A' + 'a') : ch;
    };
    return writes_->run([&](Txn& txn) -> Status {
        std::optional<Attendee> found;
        txn.scan(attendees_, "", [&](std::string_view key, std::string_view value) {
            if (std::equal(key.begin(), key.end(), attendee.id.begin(), attendee.id.end(),
                           [&](char a, char b) { return lower(a) == lower(b); })) {
                auto json = parse_json(value);
                found = json ? attendee_from_json(key, *json) : Attendee{};
                found->id = std::string(key);
                return false;
            }
            return true;
        });
        if (found) {
            if (existing != nullptr) *existing = *found;
            return Status::error(err::attendee_exists,
                                 "The registration number " + found->id +
                                     " is already in the roster (" + found->display_name() + ").",
                                 "Search for them on the Attendance tab to check them in or "
                                 "print their badge; a different person needs their own number.");
        }
        RosterStats stats;
        if (Status up = upsert_attendees(txn, {attendee}, stats); !up) return up;
        return append_audit(txn, actor, "walk_in",
                            {{"attendee_id", attendee.id},
                             {"family_name", attendee.family_name},
                             {"given_name", attendee.given_name}});
    });
}

Result<RosterStats> Store::apply_registry_roster(const RegistryRoster& roster,
                                                 std::string_view etag)
{
    RosterStats stats;
    Status s = writes_->run([&](Txn& txn) -> Status {
        stats = {};
        if (Status up = upsert_attendees(txn, roster.attendees, stats); !up) return up;
        for (const auto& [attendee_id, issue] : roster.revoked) {
            if (Status r = txn.put(revoked_, join_key({attendee_id, encode_u16(issue)}),
                                   "revoked by the registry");
                !r)
                return r;
        }
        for (const auto& [key_id, key] : roster.keys) {
            if (Status k = txn.put(keys_, key_id_hex(key_id), std::string(key.begin(), key.end()));
                !k)
                return k;
        }
        return txn.put(meta_, "roster_etag", etag);
    });
    if (!s) return s;
    return stats;
}

TrustedKeys Store::trusted_keys() const
{
    TrustedKeys keys;
    auto txn = read();
    if (!txn) return keys;
    txn->scan(keys_, "", [&](std::string_view key, std::string_view value) {
        auto id = parse_key_id_hex(key);
        if (id && value.size() == 32) {
            PublicKey pk{};
            std::copy(value.begin(), value.end(), pk.begin());
            keys[*id] = pk;
        }
        return true;
    });
    return keys;
}

Status Store::add_trusted_key(std::uint32_t key_id, const PublicKey& key)
{
    std::string value(key.begin(), key.end());
    return writes_->run([&](Txn& txn) { return txn.put(keys_, key_id_hex(key_id), value); });
}

bool Store::is_revoked(std::string_view attendee_id, std::uint16_t issue) const
{
    auto txn = read();
    return txn && txn->get(revoked_, join_key({attendee_id, encode_u16(issue)})).has_value();
}

Status Store::revoke(std::string_view attendee_id, std::uint16_t issue, std::string_view reason)
{
    return writes_->run([&](Txn& txn) {
        return txn.put(revoked_, join_key({attendee_id, encode_u16(issue)}), reason);
    });
}

std::uint16_t Store::current_issue(std::string_view attendee_id) const
{
    auto txn = read();
    if (!txn) return 1;
    auto v = txn->get(issues_, attendee_id);
    return v && v->size() == 2 ? decode_u16(*v) : 1;
}

Result<std::uint16_t> Store::reissue(std::string_view attendee_id, std::string_view reason)
{
    std::uint16_t next = 0;
    Status s = writes_->run([&](Txn& txn) -> Status {
        std::uint16_t current = 1;
        if (auto v = txn.get(issues_, attendee_id); v && v->size() == 2) current = decode_u16(*v);
        if (current == 0xffff) {
            return Status::error(err::malformed_request, "this badge cannot be re-issued again",
                                 "Give the attendee a new registration id.");
        }
        next = static_cast<std::uint16_t>(current + 1);
        if (Status r = txn.put(revoked_, join_key({attendee_id, encode_u16(current)}), reason); !r)
            return r;
        return txn.put(issues_, attendee_id, encode_u16(next));
    });
    if (!s) return s;
    return next;
}

}  // namespace ck

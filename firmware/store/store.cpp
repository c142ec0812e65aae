#include "store/store.hpp"

#include <openssl/rand.h>

#include <array>
#include <cstdio>

namespace ck {
namespace {

std::string join_key(std::initializer_list<std::string_view> parts)
{
    std::string key;
    for (auto part : parts) {
        if (!key.empty()) key.push_back('\0');
        key.append(part);
    }
    return key;
}

std::string encode_u16(std::uint16_t v)
{
    return {static_cast<char>(v >> 8), static_cast<char>(v & 0xff)};
}

bool starts_with(std::string_view s, std::string_view prefix)
{
    return s.substr(0, prefix.size()) == prefix;
}

// The last \0-separated part of an index key: the check-in id.
std::string_view last_part(std::string_view key)
{
    auto pos = key.rfind('\0');
    return pos == std::string_view::npos ? key : key.substr(pos + 1);
}

std::optional<nlohmann::json> parse_json(std::string_view text)
{
    auto json = nlohmann::json::parse(text, nullptr, false);
    if (json.is_discarded()) return std::nullopt;
    return json;
}

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
    std::array<unsigned char, 16> b{};
    if (RAND_bytes(b.data(), static_cast<int>(b.size())) != 1) {
        throw std::runtime_error("the random number generator failed");
    }
    b[6] = static_cast<unsigned char>((b[6] & 0x0f) | 0x40);
    b[8] = static_cast<unsigned char>((b[8] & 0x3f) | 0x80);
    char out[37];
    std::snprintf(out, sizeof out,
                  "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
                  b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
                  b[14], b[15]);
    return out;
}

nlohmann::json checkin_to_json(const CheckinRecord& r)
{
    return {{"id", r.id},
            {"attendee_id", r.attendee_id},
            {"session_id", r.session_id},
            {"at_unix", r.at.time_since_epoch().count()},
            {"at", r.at_text},
            {"source", r.source},
            {"late", r.late},
            {"not_in_roster", r.not_in_roster},
            {"clock_untrusted", r.clock_untrusted},
            {"staff", r.staff},
            {"issue", r.issue},
            {"voided", r.voided},
            {"void_reason", r.void_reason}};
}

std::optional<CheckinRecord> checkin_from_json(const nlohmann::json& j)
{
    try {
        CheckinRecord r;
        r.id = j.at("id").get<std::string>();
        r.attendee_id = j.at("attendee_id").get<std::string>();
        r.session_id = j.at("session_id").get<std::string>();
        r.at = Instant(std::chrono::seconds(j.at("at_unix").get<std::int64_t>()));
        r.at_text = j.at("at").get<std::string>();
        r.source = j.at("source").get<std::string>();
        r.late = j.at("late").get<bool>();
        r.not_in_roster = j.at("not_in_roster").get<bool>();
        r.clock_untrusted = j.at("clock_untrusted").get<bool>();
        r.staff = j.at("staff").get<std::string>();
        r.issue = j.at("issue").get<std::uint16_t>();
        r.voided = j.at("voided").get<bool>();
        r.void_reason = j.at("void_reason").get<std::string>();
        return r;
    } catch (const nlohmann::json::exception&) {
        return std::nullopt;
    }
}

Result<std::unique_ptr<Store>> Store::open(const StoreOptions& options)
{
    std::unique_ptr<Store> store(new Store());
    if (Status s = store->env_.open(options.dir, options.map_size, 16); !s) return s;
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
                         {"issues", &issues_}};
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
                "store_too_new",
                "the store has schema version " + std::to_string(found) +
                    ", newer than this program's " + std::to_string(kStoreSchemaVersion),
                "Install the course-kiosk version that wrote this store, or use a new data "
                "directory.");
        }
        if (found < 1) {
            return Status::error("store_unreadable", "the store's schema version is invalid",
                                 "Use a new data directory and restore from an export.");
        }
        // Versions 1..kStoreSchemaVersion: no migration exists yet (only version 1).
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
    auto v = txn->get(attendees_, id);
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

std::size_t Store::attendee_count() const
{
    auto txn = read();
    return txn ? txn->entries(attendees_) : 0;
}

Result<RosterStats> Store::import_roster(const std::vector<Attendee>& attendees)
{
    RosterStats stats;
    Status s = writes_->run([&](Txn& txn) {
        stats = {};
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
    });
    if (!s) return s;
    return stats;
}

Result<CheckinOutcome> Store::record_checkin(const NewCheckin& c)
{
    CheckinOutcome outcome;
    Status s = writes_->run([&](Txn& txn) -> Status {
        outcome = {};
        // The writer runs one job at a time, so this check and the insert are atomic.
        std::string prefix = join_key({c.attendee_id, c.session_id, ""});
        std::optional<CheckinRecord> existing;
        txn.scan(checkin_by_attendee_, prefix, [&](std::string_view key, std::string_view) {
            if (!starts_with(key, prefix)) return false;
            auto value = txn.get(checkins_, last_part(key));
            auto json = value ? parse_json(*value) : std::nullopt;
            auto record = json ? checkin_from_json(*json) : std::nullopt;
            if (record && !record->voided) {
                existing = std::move(record);
                return false;
            }
            return true;
        });
        if (existing) {
            outcome.record = std::move(*existing);
            return Status::ok();
        }
        CheckinRecord r;
        r.id = new_uuid();
        r.attendee_id = c.attendee_id;
        r.session_id = c.session_id;
        r.at = c.at;
        r.at_text = c.at_text;
        r.source = c.source;
        r.late = c.late;
        r.not_in_roster = c.not_in_roster;
        r.clock_untrusted = c.clock_untrusted;
        r.staff = c.staff;
        r.issue = c.issue;
        if (Status put = txn.put(checkins_, r.id, checkin_to_json(r).dump()); !put) return put;
        if (Status put =
                txn.put(checkin_by_attendee_, join_key({r.attendee_id, r.session_id, r.id}), "");
            !put)
            return put;
        if (Status put =
                txn.put(checkin_by_session_, join_key({r.session_id, r.attendee_id, r.id}), "");
            !put)
            return put;
        nlohmann::json event = {{"id", r.id},
                                {"type", "checkin"},
                                {"at", r.at_text},
                                {"module_id", c.module_id},
                                {"attendee_id", r.attendee_id},
                                {"session_id", r.session_id},
                                {"source", r.source},
                                {"late", r.late},
                                {"not_in_roster", r.not_in_roster},
                                {"clock_untrusted", r.clock_untrusted}};
        if (!r.staff.empty()) event["staff"] = r.staff;
        if (Status ev = append_event(txn, std::move(event)); !ev) return ev;
        outcome.created = true;
        outcome.record = std::move(r);
        return Status::ok();
    });
    if (!s) return s;
    return outcome;
}

std::optional<CheckinRecord> Store::checkin(std::string_view checkin_id) const
{
    auto txn = read();
    if (!txn) return std::nullopt;
    auto value = txn->get(checkins_, checkin_id);
    auto json = value ? parse_json(*value) : std::nullopt;
    return json ? checkin_from_json(*json) : std::nullopt;
}

std::optional<CheckinRecord> Store::find_checkin(std::string_view attendee_id,
                                                 std::string_view session_id) const
{
    for (auto& r : checkins_of_attendee(attendee_id)) {
        if (r.session_id == session_id && !r.voided) return std::move(r);
    }
    return std::nullopt;
}

std::vector<CheckinRecord> Store::checkins_of_attendee(std::string_view attendee_id) const
{
    std::vector<CheckinRecord> out;
    auto txn = read();
    if (!txn) return out;
    std::string prefix = join_key({attendee_id, ""});
    txn->scan(checkin_by_attendee_, prefix, [&](std::string_view key, std::string_view) {
        if (!starts_with(key, prefix)) return false;
        auto value = txn->get(checkins_, last_part(key));
        auto json = value ? parse_json(*value) : std::nullopt;
        if (auto r = json ? checkin_from_json(*json) : std::nullopt) out.push_back(std::move(*r));
        return true;
    });
    return out;
}

std::vector<CheckinRecord> Store::checkins_of_session(std::string_view session_id) const
{
    std::vector<CheckinRecord> out;
    auto txn = read();
    if (!txn) return out;
    std::string prefix = join_key({session_id, ""});
    txn->scan(checkin_by_session_, prefix, [&](std::string_view key, std::string_view) {
        if (!starts_with(key, prefix)) return false;
        auto value = txn->get(checkins_, last_part(key));
        auto json = value ? parse_json(*value) : std::nullopt;
        if (auto r = json ? checkin_from_json(*json) : std::nullopt) out.push_back(std::move(*r));
        return true;
    });
    return out;
}

std::size_t Store::checkin_count() const
{
    auto txn = read();
    return txn ? txn->entries(checkins_) : 0;
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
    if (!v || v->size() != 2) return 1;
    return static_cast<std::uint16_t>((static_cast<unsigned char>((*v)[0]) << 8) |
                                      static_cast<unsigned char>((*v)[1]));
}

Result<std::uint16_t> Store::reissue(std::string_view attendee_id, std::string_view reason)
{
    std::uint16_t next = 0;
    Status s = writes_->run([&](Txn& txn) -> Status {
        std::uint16_t current = 1;
        if (auto v = txn.get(issues_, attendee_id); v && v->size() == 2) {
            current = static_cast<std::uint16_t>((static_cast<unsigned char>((*v)[0]) << 8) |
                                                 static_cast<unsigned char>((*v)[1]));
        }
        if (current == 0xffff) {
            return Status::error("malformed_request", "this badge cannot be re-issued again",
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

Status Store::append_event(Txn& txn, nlohmann::json event, std::uint64_t* seq_out)
{
    auto last = txn.get(meta_, "last_seq");
    std::uint64_t seq = (last ? decode_u64(*last) : 0) + 1;
    event["seq"] = seq;
    if (Status s = txn.put(events_, encode_u64(seq), event.dump(), MDB_APPEND); !s) return s;
    if (Status s = txn.put(meta_, "last_seq", encode_u64(seq)); !s) return s;
    if (seq_out != nullptr) *seq_out = seq;
    return Status::ok();
}

std::uint64_t Store::last_seq() const
{
    auto txn = read();
    if (!txn) return 0;
    auto last = txn->get(meta_, "last_seq");
    return last ? decode_u64(*last) : 0;
}

std::vector<StoredEvent> Store::events_from(std::uint64_t first_seq, std::size_t limit) const
{
    std::vector<StoredEvent> out;
    auto txn = read();
    if (!txn) return out;
    txn->scan(events_, encode_u64(first_seq), [&](std::string_view key, std::string_view value) {
        if (out.size() >= limit) return false;
        if (auto json = parse_json(value)) out.push_back({decode_u64(key), std::move(*json)});
        return true;
    });
    return out;
}

}  // namespace ck

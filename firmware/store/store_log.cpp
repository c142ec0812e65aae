// The two logs: the event log (the sync outbox, SPEC section 6: seq 1, 2, 3, ... with no
// gap) and the audit log for people. Also the module close, whose completion records are
// events too.
#include <algorithm>
#include <set>

#include "store/store.hpp"
#include "store/store_internal.hpp"

namespace ck {

using namespace store_detail;

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

std::uint64_t Store::acked_through() const
{
    auto v = meta("acked_through");
    return v ? decode_u64(*v) : 0;
}

Status Store::set_acked_through(std::uint64_t seq, bool rewind)
{
    return writes_->run([&](Txn& txn) -> Status {
        auto last = txn.get(meta_, "last_seq");
        auto current = txn.get(meta_, "acked_through");
        std::uint64_t last_seq = last ? decode_u64(*last) : 0;
        std::uint64_t acked = current ? decode_u64(*current) : 0;
        std::uint64_t next = std::min(seq, last_seq);
        if (!rewind) next = std::max(next, acked);
        if (next == acked && current) return Status::ok();
        return txn.put(meta_, "acked_through", encode_u64(next));
    });
}

Status Store::append_audit(Txn& txn, const Actor& actor, std::string_view action,
                           nlohmann::json details)
{
    auto last = txn.get(meta_, "last_audit_seq");
    std::uint64_t seq = (last ? decode_u64(*last) : 0) + 1;
    nlohmann::json entry = {{"seq", seq},
                            {"at", actor.at_text},
                            {"actor", actor.name},
                            {"action", action},
                            {"details", std::move(details)}};
    if (Status s = txn.put(audit_, encode_u64(seq), entry.dump(), MDB_APPEND); !s) return s;
    return txn.put(meta_, "last_audit_seq", encode_u64(seq));
}

Status Store::audit(const Actor& actor, std::string_view action, nlohmann::json details)
{
    return writes_->run(
        [&](Txn& txn) { return append_audit(txn, actor, action, std::move(details)); });
}

std::vector<StoredEvent> Store::audit_entries(std::size_t limit, std::uint64_t before) const
{
    std::vector<StoredEvent> out;
    auto txn = read();
    if (!txn) return out;
    txn->scan_reverse(audit_, [&](std::string_view key, std::string_view value) {
        if (out.size() >= limit) return false;
        std::uint64_t seq = decode_u64(key);
        if (before != 0 && seq >= before) return true;
        if (auto json = parse_json(value)) out.push_back({seq, std::move(*json)});
        return true;
    });
    return out;
}

bool Store::module_closed() const { return meta("module_closed_at").has_value(); }

std::vector<nlohmann::json> Store::completions() const
{
    std::vector<nlohmann::json> out;
    auto txn = read();
    if (!txn) return out;
    txn->scan(completions_, "", [&](std::string_view, std::string_view value) {
        if (auto json = parse_json(value)) out.push_back(std::move(*json));
        return true;
    });
    return out;
}

Result<int> Store::close_module(const ModuleEdition& module, const Actor& actor)
{
    int written = 0;
    Status s = writes_->run([&](Txn& txn) -> Status {
        written = 0;
        if (txn.get(meta_, "module_closed_at")) return Status::ok();
        // Everyone rostered, and anyone who checked in without being on the roster.
        std::set<std::string> people;
        txn.scan(attendees_, "", [&](std::string_view key, std::string_view) {
            people.emplace(key);
            return true;
        });
        txn.scan(checkin_by_attendee_, "", [&](std::string_view key, std::string_view) {
            people.emplace(key.substr(0, key.find('\0')));
            return true;
        });
        for (const auto& attendee_id : people) {
            std::vector<CheckinRecord> checkins;
            std::string prefix = join_key({attendee_id, ""});
            txn.scan(checkin_by_attendee_, prefix, [&](std::string_view key, std::string_view) {
                if (!starts_with(key, prefix)) return false;
                if (auto r = read_checkin(txn, last_part(key))) checkins.push_back(std::move(*r));
                return true;
            });
            // After the last session: a stay without exit counts to its session's end.
            nlohmann::json record =
                completion_record(module, attendee_id, attendance_of(module, checkins),
                                  txn.get(attendees_, attendee_id).has_value());
            record["closed_at"] = actor.at_text;
            if (Status put = txn.put(completions_, attendee_id, record.dump()); !put) return put;
            nlohmann::json event = record;
            event.erase("closed_at");
            event.erase("sessions_total");
            event["id"] = new_uuid();
            event["type"] = "completion";
            event["at"] = actor.at_text;
            if (Status ev = append_event(txn, std::move(event)); !ev) return ev;
            ++written;
        }
        if (Status put = txn.put(meta_, "module_closed_at", actor.at_text); !put) return put;
        return append_audit(txn, actor, "close_module", {{"completion_records", written}});
    });
    if (!s) return s;
    if (written > 0) events_committed();
    return written;
}

}  // namespace ck

// Check-ins held while the device clock was not trusted (Store, store.hpp).
#include <algorithm>

#include "store/store.hpp"
#include "store/store_internal.hpp"

namespace ck {

using namespace store_detail;

namespace {

nlohmann::json held_to_json(const HeldCheckin& h)
{
    return {{"id", h.id},
            {"attendee_id", h.attendee_id},
            {"source", h.source},
            {"staff", h.staff},
            {"issue", h.issue},
            {"boot_id", h.boot_id},
            {"since_boot_ms", h.since_boot_ms},
            {"device_time", h.device_time},
            {"problem", h.problem}};
}

std::optional<HeldCheckin> held_from_json(std::string_view text)
{
    auto json = parse_json(text);
    if (!json || !json->is_object()) return std::nullopt;
    HeldCheckin h;
    h.id = json->value("id", "");
    h.attendee_id = json->value("attendee_id", "");
    h.source = json->value("source", "");
    h.staff = json->value("staff", "");
    h.issue = json->value<std::uint16_t>("issue", 0);
    h.boot_id = json->value("boot_id", "");
    h.since_boot_ms = json->value<std::int64_t>("since_boot_ms", 0);
    h.device_time = json->value("device_time", "");
    h.problem = json->value("problem", "");
    return h;
}

}  // namespace

Result<HoldOutcome> Store::hold_checkin(const HeldCheckin& held, std::int64_t same_scan_window_ms)
{
    HoldOutcome outcome;
    Status s = writes_->run([&](Txn& txn) {
        outcome.attendee = read_attendee(txn, held.attendee_id);
        outcome.earlier.reset();
        if (same_scan_window_ms > 0) {
            txn.scan(held_, "", [&](std::string_view, std::string_view value) {
                auto other = held_from_json(value);
                if (other && other->attendee_id == held.attendee_id &&
                    other->boot_id == held.boot_id && other->since_boot_ms <= held.since_boot_ms &&
                    held.since_boot_ms - other->since_boot_ms < same_scan_window_ms &&
                    (!outcome.earlier || other->since_boot_ms > outcome.earlier->since_boot_ms)) {
                    outcome.earlier = std::move(*other);
                }
                return true;
            });
        }
        return txn.put(held_, held.id, held_to_json(held).dump());
    });
    if (!s) return s;
    return outcome;
}

std::vector<HeldCheckin> Store::held_checkins() const
{
    std::vector<HeldCheckin> list;
    auto txn = read();
    if (!txn) return list;
    txn->scan(held_, "", [&](std::string_view, std::string_view value) {
        if (auto h = held_from_json(value)) list.push_back(std::move(*h));
        return true;
    });
    // In the order they were taken (within a boot).
    std::sort(list.begin(), list.end(), [](const HeldCheckin& a, const HeldCheckin& b) {
        return std::tie(a.boot_id, a.since_boot_ms) < std::tie(b.boot_id, b.since_boot_ms);
    });
    return list;
}

std::size_t Store::held_count() const
{
    auto txn = read();
    return txn ? txn->entries(held_) : 0;
}

Result<CheckinOutcome> Store::file_held_checkin(std::string_view held_id, const NewCheckin& checkin,
                                                const Actor& actor)
{
    CheckinOutcome outcome;
    Status s = writes_->run([&](Txn& txn) -> Status {
        auto value = txn.get(held_, held_id);
        if (!value) {
            return Status::error(err::not_found, "This check-in is no longer held.",
                                 "Reload the list.");
        }
        auto held = held_from_json(*value);
        NewCheckin filed = checkin;
        filed.held = nlohmann::json{{"filed_by", actor.name}};
        if (held && !held->device_time.empty()) (*filed.held)["device_time"] = held->device_time;
        if (Status ins = insert_checkin(txn, filed, outcome); !ins) return ins;
        if (Status del = txn.del(held_, held_id); !del) return del;
        return append_audit(txn, actor, "file_held_checkin",
                            {{"held_id", held_id},
                             {"attendee_id", checkin.attendee_id},
                             {"session_id", checkin.session_id},
                             {"at", checkin.at_text},
                             {"device_time", held ? held->device_time : ""},
                             {"duplicate", !outcome.created}});
    });
    if (!s) return s;
    if (outcome.created) events_committed();
    return outcome;
}

Status Store::mark_held(std::string_view held_id, std::string_view problem)
{
    return writes_->run([&](Txn& txn) -> Status {
        auto value = txn.get(held_, held_id);
        if (!value) return Status::ok();
        auto held = held_from_json(*value);
        if (!held) return Status::ok();
        held->problem = std::string(problem);
        return txn.put(held_, held_id, held_to_json(*held).dump());
    });
}

}  // namespace ck

// Staff accounts and their browser sessions.
#include "store/store.hpp"
#include "store/store_internal.hpp"

namespace ck {

using namespace store_detail;

std::optional<StaffAccount> Store::staff(std::string_view username) const
{
    auto txn = read();
    if (!txn) return std::nullopt;
    auto value = txn->get(staff_, username);
    auto json = value ? parse_json(*value) : std::nullopt;
    if (!json) return std::nullopt;
    StaffAccount account;
    account.username = std::string(username);
    account.password_hash = json->value("password_hash", "");
    return account;
}

std::vector<std::string> Store::staff_names() const
{
    std::vector<std::string> names;
    auto txn = read();
    if (!txn) return names;
    txn->scan(staff_, "", [&](std::string_view key, std::string_view) {
        names.emplace_back(key);
        return true;
    });
    return names;
}

Status Store::put_staff(const StaffAccount& account)
{
    nlohmann::json json = {{"password_hash", account.password_hash}};
    std::string value = json.dump();
    return writes_->run([&](Txn& txn) -> Status {
        if (Status s = txn.put(staff_, account.username, value); !s) return s;
        std::vector<std::string> ended;
        txn.scan(staff_sessions_, "", [&](std::string_view key, std::string_view session) {
            auto parsed = parse_json(session);
            if (!parsed || parsed->value("username", "") == account.username) {
                ended.emplace_back(key);
            }
            return true;
        });
        for (const auto& key : ended) {
            if (Status s = txn.del(staff_sessions_, key); !s) return s;
        }
        return Status::ok();
    });
}

Status Store::put_staff_session(std::string_view token_hash, const nlohmann::json& session)
{
    std::string value = session.dump();
    return writes_->run([&](Txn& txn) { return txn.put(staff_sessions_, token_hash, value); });
}

std::optional<nlohmann::json> Store::staff_session(std::string_view token_hash) const
{
    auto txn = read();
    if (!txn) return std::nullopt;
    auto value = txn->get(staff_sessions_, token_hash);
    return value ? parse_json(*value) : std::nullopt;
}

Status Store::delete_staff_session(std::string_view token_hash)
{
    return writes_->run([&](Txn& txn) { return txn.del(staff_sessions_, token_hash); });
}

Status Store::purge_staff_sessions(std::int64_t now)
{
    return writes_->run([&](Txn& txn) -> Status {
        std::vector<std::string> expired;
        txn.scan(staff_sessions_, "", [&](std::string_view key, std::string_view value) {
            auto json = parse_json(value);
            if (!json || json->value("expires", std::int64_t{0}) <= now) expired.emplace_back(key);
            return true;
        });
        for (const auto& key : expired) {
            if (Status s = txn.del(staff_sessions_, key); !s) return s;
        }
        return Status::ok();
    });
}

}  // namespace ck

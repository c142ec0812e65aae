// Staff accounts and their browser sessions.
#include "store/store.hpp"
#include "store/store_internal.hpp"

namespace ck {

using namespace store_detail;

namespace {

StaffAccount staff_from_json(std::string_view username, const nlohmann::json& json)
{
    StaffAccount account;
    account.username = std::string(username);
    account.password_hash = json.value("password_hash", "");
    // A value this program does not know reads as the least power, not the most.
    account.role = parse_staff_role(json.value("role", "admin")).value_or(StaffRole::staff);
    account.disabled = json.value("disabled", false);
    account.created = json.value("created", "");
    account.last_login = json.value("last_login", "");
    return account;
}

nlohmann::json staff_to_json(const StaffAccount& account)
{
    nlohmann::json json = {{"password_hash", account.password_hash},
                           {"role", staff_role_name(account.role)},
                           {"disabled", account.disabled}};
    if (!account.created.empty()) json["created"] = account.created;
    if (!account.last_login.empty()) json["last_login"] = account.last_login;
    return json;
}

}  // namespace

std::string_view staff_role_name(StaffRole role)
{
    return role == StaffRole::admin ? "admin" : "staff";
}

std::optional<StaffRole> parse_staff_role(std::string_view text)
{
    if (text == "admin") return StaffRole::admin;
    if (text == "staff") return StaffRole::staff;
    return std::nullopt;
}

std::optional<StaffAccount> Store::staff(std::string_view username) const
{
    auto txn = read();
    if (!txn) return std::nullopt;
    auto value = txn->get(staff_, username);
    auto json = value ? parse_json(*value) : std::nullopt;
    if (!json) return std::nullopt;
    return staff_from_json(username, *json);
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

std::vector<StaffAccount> Store::staff_accounts() const
{
    std::vector<StaffAccount> accounts;
    auto txn = read();
    if (!txn) return accounts;
    txn->scan(staff_, "", [&](std::string_view key, std::string_view value) {
        if (auto json = parse_json(value)) accounts.push_back(staff_from_json(key, *json));
        return true;
    });
    return accounts;
}

Status Store::write_staff(Txn& txn, const StaffAccount& account)
{
    if (Status s = txn.put(staff_, account.username, staff_to_json(account).dump()); !s) return s;
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
}

Status Store::put_staff(const StaffAccount& account)
{
    return writes_->run([&](Txn& txn) { return write_staff(txn, account); });
}

Status Store::change_staff(const StaffDecision& decide, const Actor& actor, std::string_view action,
                           nlohmann::json details)
{
    return writes_->run([&](Txn& txn) -> Status {
        std::vector<StaffAccount> accounts;
        txn.scan(staff_, "", [&](std::string_view key, std::string_view value) {
            if (auto json = parse_json(value)) accounts.push_back(staff_from_json(key, *json));
            return true;
        });
        Result<StaffAccount> decided = decide(accounts);
        if (!decided) return decided.status();
        if (Status s = write_staff(txn, *decided); !s) return s;
        return append_audit(txn, actor, action, details);
    });
}

Status Store::note_staff_login(std::string_view username, std::string_view at_text)
{
    return writes_->run([&](Txn& txn) -> Status {
        auto value = txn.get(staff_, username);
        auto json = value ? parse_json(*value) : std::nullopt;
        if (!json) return Status::ok();  // removed meanwhile
        (*json)["last_login"] = at_text;
        return txn.put(staff_, username, json->dump());
    });
}

Status Store::migrate_staff_roles(Txn& txn)
{
    std::vector<std::pair<std::string, std::string>> rewritten;
    txn.scan(staff_, "", [&](std::string_view key, std::string_view value) {
        auto json = parse_json(value);
        if (json && !json->contains("role")) {
            (*json)["role"] = "admin";
            rewritten.emplace_back(std::string(key), json->dump());
        }
        return true;
    });
    for (const auto& [key, value] : rewritten) {
        if (Status s = txn.put(staff_, key, value); !s) return s;
    }
    return Status::ok();
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

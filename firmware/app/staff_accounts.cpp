#include "app/staff_accounts.hpp"

#include <algorithm>

#include "app/device.hpp"
#include "core/password.hpp"

namespace ck {
namespace {

constexpr const char* kCommandLine = "command line";

const StaffAccount* find(const std::vector<StaffAccount>& accounts, const std::string& username)
{
    auto it = std::find_if(accounts.begin(), accounts.end(),
                           [&](const StaffAccount& a) { return a.username == username; });
    return it == accounts.end() ? nullptr : &*it;
}

bool enabled_admin(const StaffAccount* account)
{
    return account != nullptr && account->role == StaffRole::admin && !account->disabled;
}

Status forbidden()
{
    return Status::error(err::forbidden, "Only an admin manages staff accounts.",
                         "Ask an admin of this device.");
}

Status not_found(const std::string& username)
{
    return Status::error(err::not_found, "There is no staff account " + username + ".",
                         "Reload the list of accounts.");
}

// The device keeps an enabled admin once `changed` replaces its account in `accounts`.
Status keeps_an_admin(const std::vector<StaffAccount>& accounts, const StaffAccount& changed)
{
    bool was_admin = enabled_admin(find(accounts, changed.username));
    if (!was_admin || enabled_admin(&changed)) return Status::ok();
    bool other = std::any_of(accounts.begin(), accounts.end(), [&](const StaffAccount& a) {
        return a.username != changed.username && enabled_admin(&a);
    });
    if (other) return Status::ok();
    return Status::error(err::last_admin,
                         changed.username + " is the last enabled admin of this device.",
                         "Make another account an admin first.");
}

// The decision of a change by `admin` (empty: the command line) to `username`'s account.
Store::StaffDecision admin_change(const std::string& admin, const std::string& username,
                                  std::function<Result<StaffAccount>(StaffAccount)> edit)
{
    return
        [admin, username, edit](const std::vector<StaffAccount>& accounts) -> Result<StaffAccount> {
            if (!admin.empty() && !enabled_admin(find(accounts, admin))) return forbidden();
            const StaffAccount* current = find(accounts, username);
            if (current == nullptr) return not_found(username);
            Result<StaffAccount> changed = edit(*current);
            if (!changed) return changed;
            if (Status s = keeps_an_admin(accounts, *changed); !s) return s;
            return changed;
        };
}

}  // namespace

Status require_admin(const Device& device, const std::string& username)
{
    auto account = device.store->staff(username);
    return account && enabled_admin(&*account) ? Status::ok() : forbidden();
}

Result<std::vector<StaffAccount>> list_staff_accounts(const Device& device,
                                                      const std::string& admin)
{
    if (Status s = require_admin(device, admin); !s) return s;
    return device.store->staff_accounts();
}

Result<StaffAccount> add_staff_account(Device& device, const std::string& admin,
                                       const NewStaffAccount& account)
{
    if (Status s = require_admin(device, admin); !s) return s;
    if (Status s = check_staff_username(account.username); !s) return s;
    if (Status s = check_new_password(account.password); !s) return s;
    const Actor actor = device.actor(admin);
    StaffAccount added;
    added.username = account.username;
    added.password_hash = hash_password(account.password);  // outside the write transaction
    added.role = account.role;
    added.created = actor.at_text;
    Status s = device.store->change_staff(
        [&](const std::vector<StaffAccount>& accounts) -> Result<StaffAccount> {
            if (!enabled_admin(find(accounts, admin))) return forbidden();
            if (find(accounts, added.username) != nullptr) {
                return Status::error(err::staff_exists,
                                     "There is already a staff account " + added.username + ".",
                                     "Choose another name, or reset that account's password.");
            }
            return added;
        },
        actor, "staff_add", {{"username", added.username}, {"role", staff_role_name(added.role)}});
    if (!s) return s;
    return added;
}

Result<StaffAccount> reset_staff_password(Device& device, const std::string& admin,
                                          const std::string& username, const std::string& password)
{
    if (Status s = require_admin(device, admin); !s) return s;
    if (Status s = check_new_password(password); !s) return s;
    const std::string hash = hash_password(password);
    StaffAccount result;
    Status s = device.store->change_staff(
        admin_change(admin, username,
                     [&](StaffAccount account) -> Result<StaffAccount> {
                         account.password_hash = hash;
                         result = account;
                         return account;
                     }),
        device.actor(admin), "staff_password_reset", {{"username", username}});
    if (!s) return s;
    return result;
}

Result<StaffAccount> change_staff_access(Device& device, const std::string& admin,
                                         const std::string& username,
                                         const StaffAccessChange& change)
{
    if (Status s = require_admin(device, admin); !s) return s;
    auto current = device.store->staff(username);
    if (!current) return not_found(username);
    StaffAccount wanted = *current;
    if (change.role) wanted.role = *change.role;
    if (change.disabled) wanted.disabled = *change.disabled;
    if (wanted.role == current->role && wanted.disabled == current->disabled) return *current;
    if (username == admin) {
        return Status::error(err::own_account,
                             "You cannot disable your own account or take away its admin role.",
                             "Another admin can.");
    }
    const bool role_changed = wanted.role != current->role;
    const bool disabled_changed = wanted.disabled != current->disabled;
    const char* action = role_changed && disabled_changed ? "staff_access"
                         : role_changed                   ? "staff_role"
                         : wanted.disabled                ? "staff_disable"
                                                          : "staff_enable";
    nlohmann::json details = {{"username", username}};
    if (role_changed) {
        details["role"] = staff_role_name(wanted.role);
        details["previous_role"] = staff_role_name(current->role);
    }
    if (disabled_changed) details["disabled"] = wanted.disabled;
    StaffAccount result;
    Status s =
        device.store->change_staff(admin_change(admin, username,
                                                [&](StaffAccount account) -> Result<StaffAccount> {
                                                    account.role = wanted.role;
                                                    account.disabled = wanted.disabled;
                                                    result = account;
                                                    return account;
                                                }),
                                   device.actor(admin), action, std::move(details));
    if (!s) return s;
    return result;
}

Result<StaffAccount> put_staff_from_command_line(Device& device, const std::string& username,
                                                 const std::string& password,
                                                 std::optional<StaffRole> role, bool& existed)
{
    if (Status s = check_staff_username(username); !s) return s;
    if (Status s = check_new_password(password); !s) return s;
    const std::string hash = hash_password(password);
    const Actor actor = device.actor(kCommandLine);
    existed = device.store->staff(username).has_value();
    StaffAccount result;
    nlohmann::json details = {{"username", username}};
    if (role) details["role"] = staff_role_name(*role);
    Status s = device.store->change_staff(
        [&](const std::vector<StaffAccount>& accounts) -> Result<StaffAccount> {
            const StaffAccount* current = find(accounts, username);
            StaffAccount account;
            if (current != nullptr) {
                account = *current;
            } else {
                account.username = username;
                account.role = StaffRole::admin;
                account.created = actor.at_text;
            }
            account.password_hash = hash;
            if (role) account.role = *role;
            if (current != nullptr) {
                if (Status kept = keeps_an_admin(accounts, account); !kept) return kept;
            }
            result = account;
            return account;
        },
        actor, existed ? "staff_password_reset" : "staff_add", std::move(details));
    if (!s) return s;
    return result;
}

}  // namespace ck

// Staff accounts managed by an admin (GET/POST /api/v1/staff, PUT /api/v1/staff/{name}...)
// and by the command line (`course-kiosk staff add`, root on the device).
//
// Rules, decided inside the store's write transaction (Store::change_staff) so that two
// admins at once see each other's change:
//   - only an enabled admin manages accounts (forbidden, 403);
//   - user names are 1-64 letters, digits, '.', '_' or '-' (invalid_staff, 422) and unique
//     (staff_exists, 409);
//   - a password has kMinPasswordLength to kMaxPasswordLength characters (weak_password);
//   - nobody disables or demotes their own account (own_account, 409), and the device never
//     ends up without an enabled admin (last_admin, 409);
//   - disabling an account or resetting its password ends its browser sessions at once;
//   - every change is audited: who, which action, to whom; never a password.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/status.hpp"
#include "store/store.hpp"

namespace ck {

class Device;

// ok when `username` is an enabled admin; else forbidden.
Status require_admin(const Device& device, const std::string& username);

// Every account, for an admin.
Result<std::vector<StaffAccount>> list_staff_accounts(const Device& device,
                                                      const std::string& admin);

struct NewStaffAccount {
    std::string username;
    std::string password;
    StaffRole role = StaffRole::staff;
};
Result<StaffAccount> add_staff_account(Device& device, const std::string& admin,
                                       const NewStaffAccount& account);

// A new password, typed by the admin; the account's sessions end.
Result<StaffAccount> reset_staff_password(Device& device, const std::string& admin,
                                          const std::string& username, const std::string& password);

// A new role and/or the disabled flag (absent: unchanged). Disabling ends the sessions.
struct StaffAccessChange {
    std::optional<StaffRole> role;
    std::optional<bool> disabled;
};
Result<StaffAccount> change_staff_access(Device& device, const std::string& admin,
                                         const std::string& username,
                                         const StaffAccessChange& change);

// `course-kiosk staff add`: creates the account (with `role`, admin when absent) or resets
// its password (its role changed only when `role` is given), with the same name, password
// and last-admin rules but no admin needed: whoever runs it is root on the device.
// `existed` says which it was.
Result<StaffAccount> put_staff_from_command_line(Device& device, const std::string& username,
                                                 const std::string& password,
                                                 std::optional<StaffRole> role, bool& existed);

}  // namespace ck

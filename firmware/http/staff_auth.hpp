// Staff sessions: login with a password (scrypt), an HttpOnly SameSite=Strict cookie, and a
// CSRF token that every state-changing staff request carries in X-CSRF-Token.
//
// Wrong passwords slow down the client that types them, never the owner elsewhere
// (LoginThrottle); logins are also rate-limited per client address, and every failure is
// audited.
#pragma once

#include <httplib.h>

#include <optional>
#include <string>

#include "core/status.hpp"
#include "net/failure_throttle.hpp"

namespace ck {

class Device;

struct StaffSession {
    std::string username;
    std::string csrf_token;
    std::string role;  // "admin" or "staff" (store/store.hpp StaffRole), for the dashboard
};

// Growing delays after wrong passwords, kept in memory, for known and unknown user names
// alike (so the answers do not tell them apart):
//   - per account and client address: 3 failures are free, then the next attempt waits
//     2 s, 4 s, 8 s ... up to 15 minutes;
//   - per account: after 10 failures from anywhere, the same growing wait, but only for the
//     clients that have failed on that account: the owner's right password from a client
//     that has not been failing always gets through;
//   - per address, over all accounts: after 10 failures, the same growing wait.
// A success clears its client's failures; failures are forgotten a day after the last.
class LoginThrottle {
public:
    LoginThrottle();
    // Seconds before this client may try this user name again (0: now).
    std::int64_t wait(const std::string& username, const std::string& address,
                      std::int64_t now) const;
    void failed(const std::string& username, const std::string& address, std::int64_t now);
    void succeeded(const std::string& username, const std::string& address);

private:
    static std::string client_key(const std::string& username, const std::string& address);
    FailureThrottle by_client_;
    FailureThrottle by_account_;
    FailureThrottle by_address_;
};

inline constexpr const char* kStaffCookie = "ck_staff";
inline constexpr int kStaffSessionSeconds = 12 * 3600;

// The value of cookie `name` in the request's Cookie headers.
std::optional<std::string> cookie_value(const httplib::Request& req, std::string_view name);

// The session of the request's cookie, if it is valid and not expired and its account
// exists and is not disabled.
std::optional<StaffSession> find_staff_session(Device& device, const httplib::Request& req);
// The access check of the route table: unauthenticated (401) or csrf_failed (403).
Result<StaffSession> authorize_staff(Device& device, const httplib::Request& req,
                                     bool state_changing);

}  // namespace ck

// The plumbing of staff logins on a web page, shared by the device's dashboard and the
// registry's office page: the session cookie (HttpOnly, SameSite=Strict), constant-time
// comparison of secrets (CSRF tokens), and the growing delays after wrong passwords.
#pragma once

#include <httplib.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "net/failure_throttle.hpp"

namespace ck {

// The value of cookie `name` in the request's Cookie headers.
std::optional<std::string> cookie_value(const httplib::Request& req, std::string_view name);
// A Set-Cookie value for a session; an empty token and max_age 0 end it.
std::string session_cookie(std::string_view name, const std::string& token, int max_age);
// Equal, in time that does not depend on where they differ.
bool equal_secret(const std::string& a, const std::string& b);

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

}  // namespace ck

// Staff sessions: login with a password (scrypt), an HttpOnly SameSite=Strict cookie, and a
// CSRF token that every state-changing staff request carries in X-CSRF-Token.
//
// Repeated wrong passwords slow an account down (from the 4th failure each attempt must
// wait twice as long as the last) and lock it for 15 minutes after 10; logins are also
// rate-limited per client address.
#pragma once

#include <httplib.h>

#include <optional>
#include <string>

#include "core/status.hpp"

namespace ck {

class Device;

struct StaffSession {
    std::string username;
    std::string csrf_token;
};

inline constexpr const char* kStaffCookie = "ck_staff";
inline constexpr int kStaffSessionSeconds = 12 * 3600;

// The value of cookie `name` in the request's Cookie headers.
std::optional<std::string> cookie_value(const httplib::Request& req, std::string_view name);

// The session of the request's cookie, if it is valid and not expired.
std::optional<StaffSession> find_staff_session(Device& device, const httplib::Request& req);
// The access check of the route table: unauthenticated (401) or csrf_failed (403).
Result<StaffSession> authorize_staff(Device& device, const httplib::Request& req,
                                     bool state_changing);

}  // namespace ck

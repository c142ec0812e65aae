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
#include "net/web_session.hpp"

namespace ck {

class Device;

struct StaffSession {
    std::string username;
    std::string csrf_token;
    std::string role;  // "admin" or "staff" (store/store.hpp StaffRole), for the dashboard
};

inline constexpr const char* kStaffCookie = "ck_staff";
inline constexpr int kStaffSessionSeconds = 12 * 3600;

// The session of the request's cookie, if it is valid and not expired and its account
// exists and is not disabled.
std::optional<StaffSession> find_staff_session(Device& device, const httplib::Request& req);
// The access check of the route table: unauthenticated (401) or csrf_failed (403).
Result<StaffSession> authorize_staff(Device& device, const httplib::Request& req,
                                     bool state_changing);

}  // namespace ck

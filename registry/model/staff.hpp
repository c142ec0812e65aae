// The education office's staff at the registry: accounts (user name, scrypt password) and
// their web sessions, as on the device (core/password.hpp rules): a session is a random
// token whose SHA-256 alone is stored, with a CSRF token, for 12 hours.
#pragma once

#include <optional>
#include <string>

#include "core/status.hpp"
#include "db/pg.hpp"

namespace ck::registry {

inline constexpr int kOfficeSessionSeconds = 12 * 3600;

// Adds the account, or sets a new password for it (and ends its sessions). `replaced`
// says which.
Status put_staff(Database& db, const std::string& username, const std::string& password,
                 bool& replaced);

struct OfficeSession {
    std::string username;
    std::string token;  // the cookie's value (only at login)
    std::string csrf_token;
};

// Checks the password (the same scrypt work for unknown names) and opens a session;
// bad_credentials when the name or the password is wrong or the account disabled.
Result<OfficeSession> log_in(Database& db, const std::string& username,
                             const std::string& password);
// The session of a cookie's token, if it exists, has not expired and its account is enabled.
Result<std::optional<OfficeSession>> find_session(Database& db, const std::string& token);
Status log_out(Database& db, const std::string& token);

}  // namespace ck::registry

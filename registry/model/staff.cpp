#include "model/staff.hpp"

#include "core/password.hpp"

namespace ck::registry {

Status put_staff(Database& db, const std::string& username, const std::string& password,
                 bool& replaced)
{
    if (Status s = check_staff_username(username); !s) return s;
    if (Status s = check_new_password(password); !s) return s;
    return in_transaction(db, [&]() -> Status {
        auto rows = db.exec(
            "INSERT INTO staff (username, password_hash) VALUES ($1, $2) "
            "ON CONFLICT (username) DO UPDATE SET password_hash = excluded.password_hash, "
            "disabled_at = NULL RETURNING (xmax <> 0)",
            {username, hash_password(password)});
        if (!rows) return rows.status();
        replaced = rows->text(0, 0) == "t";
        auto ended = db.exec("DELETE FROM staff_sessions WHERE username = $1", {username});
        return ended ? Status::ok() : ended.status();
    });
}

Result<OfficeSession> log_in(Database& db, const std::string& username, const std::string& password)
{
    auto rows = db.exec(
        "SELECT password_hash, disabled_at IS NOT NULL FROM staff WHERE username = $1", {username});
    if (!rows) return rows.status();
    // Unknown users cost the same scrypt work, so timing does not reveal who exists.
    static const std::string dummy = hash_password("not a password");
    const bool known = rows->count() == 1;
    const bool ok = verify_password(password, known ? rows->text(0, 0) : dummy) && known &&
                    rows->text(0, 1) == "f";
    if (!ok) {
        return Status::error(err::bad_credentials, "Wrong username or password.",
                             "Check both and try again.");
    }
    OfficeSession session{username, random_hex(32), random_hex(32)};
    auto saved = db.exec(
        "INSERT INTO staff_sessions (token_hash, username, csrf_token, expires_at) "
        "VALUES (decode($1, 'hex'), $2, $3, now() + make_interval(secs => $4))",
        {sha256_hex(session.token), username, session.csrf_token,
         std::to_string(kOfficeSessionSeconds)});
    if (!saved) return saved.status();
    (void)db.exec("DELETE FROM staff_sessions WHERE expires_at < now()");  // keeps it small
    return session;
}

Result<std::optional<OfficeSession>> find_session(Database& db, const std::string& token)
{
    if (token.size() != 64) return std::optional<OfficeSession>();
    auto rows = db.exec(
        "SELECT s.username, s.csrf_token FROM staff_sessions s "
        "JOIN staff a ON a.username = s.username "
        "WHERE s.token_hash = decode($1, 'hex') AND s.expires_at > now() "
        "AND a.disabled_at IS NULL",
        {sha256_hex(token)});
    if (!rows) return rows.status();
    if (rows->count() == 0) return std::optional<OfficeSession>();
    return std::optional<OfficeSession>(OfficeSession{rows->text(0, 0), "", rows->text(0, 1)});
}

Status log_out(Database& db, const std::string& token)
{
    auto rows = db.exec("DELETE FROM staff_sessions WHERE token_hash = decode($1, 'hex')",
                        {sha256_hex(token)});
    return rows ? Status::ok() : rows.status();
}

}  // namespace ck::registry

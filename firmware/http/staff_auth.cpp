#include "http/staff_auth.hpp"

#include <algorithm>
#include <chrono>

#include "app/device.hpp"
#include "core/password.hpp"
#include "http/routes.hpp"
#include "log/log.hpp"
#include "net/error.hpp"
#include "net/rate_limit.hpp"
#include "net/web_session.hpp"

namespace ck {
namespace {

// Session ages and password blocks run on the system clock (with the tests' fake time),
// not the corrected device clock: a staff member setting the clock by days must not be
// logged out by it, nor extend every session.
std::int64_t unix_now(const Device& device)
{
    return std::chrono::duration_cast<std::chrono::seconds>(
               device.clock.system_now().time_since_epoch())
        .count();
}

}  // namespace

std::optional<StaffSession> find_staff_session(Device& device, const httplib::Request& req)
{
    auto token = cookie_value(req, kStaffCookie);
    if (!token || token->size() != 64) return std::nullopt;
    auto session = device.store->staff_session(sha256_hex(*token));
    if (!session) return std::nullopt;
    if (session->value("expires", std::int64_t{0}) <= unix_now(device)) return std::nullopt;
    std::string username = session->value("username", "");
    auto account = device.store->staff(username);
    // Disabling ends the sessions; this also covers a session written while it happened.
    if (!account || account->disabled) return std::nullopt;
    return StaffSession{username, session->value("csrf", ""),
                        std::string(staff_role_name(account->role))};
}

Result<StaffSession> authorize_staff(Device& device, const httplib::Request& req,
                                     bool state_changing)
{
    auto session = find_staff_session(device, req);
    if (!session) {
        return Status::error(err::unauthenticated,
                             "You are not logged in, or your session expired.",
                             "Log in on the staff page.");
    }
    if (state_changing &&
        !equal_secret(req.get_header_value("X-CSRF-Token"), session->csrf_token)) {
        return Status::error(err::csrf_failed, "This request lacks a valid CSRF token.",
                             "Reload the staff page and try again.");
    }
    return *session;
}

void handle_get_session(const ApiRequest& request, httplib::Response& res)
{
    // The route's access check found a session, but a logout on another connection may have
    // ended it since.
    auto session = find_staff_session(request.device, request.http);
    if (!session) {
        write_error(res, Status::error(err::unauthenticated, "Your session has ended.",
                                       "Log in on the staff page."));
        return;
    }
    write_json(res, 200,
               {{"username", session->username},
                {"csrf_token", session->csrf_token},
                {"role", session->role}});
}

void handle_login(const ApiRequest& request, httplib::Response& res)
{
    Device& device = request.device;
    const std::string& client = request.client;
    if (!request.context.login_limiter.allow(client)) {
        write_error(res, Status::error(err::rate_limited, "Too many login attempts from here.",
                                       "Wait a minute and try again."));
        res.set_header("Retry-After", "60");
        return;
    }
    auto body = nlohmann::json::parse(request.body, nullptr, false);
    if (!body.is_object() || !body.contains("username") || !body["username"].is_string() ||
        !body.contains("password") || !body["password"].is_string()) {
        write_error(res, Status::error(err::malformed_request,
                                       "Send {\"username\": \"...\", \"password\": \"...\"}.",
                                       "Both fields are strings."));
        return;
    }
    std::string username = body["username"];
    std::string password = body["password"];
    std::int64_t now = unix_now(device);
    LoginThrottle& throttle = request.context.login_throttle;
    // Known and unknown names are throttled alike, so the answers do not tell them apart.
    if (std::int64_t wait = throttle.wait(username, client, now); wait > 0) {
        write_error(res, Status::error(err::rate_limited,
                                       "Too many wrong passwords; try again in " +
                                           std::to_string(wait) + " seconds.",
                                       "Wait, or ask an administrator to reset the password."));
        res.set_header("Retry-After", std::to_string(wait));
        return;
    }
    auto account = device.store->staff(username);
    // Unknown users cost the same scrypt work, so timing does not reveal who exists.
    static const std::string dummy = hash_password("not a password");
    bool ok = verify_password(password, account ? account->password_hash : dummy) && account;
    // A disabled account answers as a wrong password does: the answer reveals nothing.
    const bool disabled = ok && account->disabled;
    if (!ok || disabled) {
        throttle.failed(username, client, now);
        std::string shown = username.substr(0, 64);
        CK_WARN("auth", "failed login as " << shown << " from " << client);
        nlohmann::json details = {
            {"username", shown}, {"client", client}, {"known", account.has_value()}};
        if (disabled) details["disabled"] = true;
        device.store->audit(device.actor("unauthenticated"), "login_failed", std::move(details));
        write_error(res, Status::error(err::bad_credentials, "Wrong username or password.",
                                       "Check both and try again."));
        return;
    }
    throttle.succeeded(username, client);
    std::string token = random_hex(32);
    std::string csrf = random_hex(32);
    nlohmann::json session = {
        {"username", username}, {"csrf", csrf}, {"expires", now + kStaffSessionSeconds}};
    Status saved = device.store->put_staff_session(sha256_hex(token), session);
    const Actor actor = device.actor(username);
    if (saved) saved = device.store->audit(actor, "login", {{"client", client}});
    if (!saved) {
        write_error(res, saved);
        return;
    }
    device.store->purge_staff_sessions(now);                  // best effort: keeps the table small
    device.store->note_staff_login(username, actor.at_text);  // best effort too
    res.set_header("Set-Cookie", session_cookie(kStaffCookie, token, kStaffSessionSeconds));
    write_json(
        res, 200,
        {{"username", username}, {"csrf_token", csrf}, {"role", staff_role_name(account->role)}});
}

void handle_logout(const ApiRequest& request, httplib::Response& res)
{
    Device& device = request.device;
    if (auto token = cookie_value(request.http, kStaffCookie)) {
        device.store->delete_staff_session(sha256_hex(*token));
    }
    device.store->audit(device.actor(request.staff), "logout", nlohmann::json::object());
    res.set_header("Set-Cookie", session_cookie(kStaffCookie, "", 0));
    write_json(res, 200, {{"status", "logged_out"}});
}

}  // namespace ck

// Staff accounts managed by an admin (app/staff_accounts.hpp, http/handle_staff_accounts.cpp):
// each route, each refusal, 403 for a non-admin, a disabled account's sessions and logins,
// the last admin kept, and the audit entries (never a password).
#include <doctest/doctest.h>

#include "app/staff_accounts.hpp"
#include "core/password.hpp"
#include "http/staff_auth.hpp"
#include "test_device.hpp"

namespace {

using ck::test::TestDevice;

const std::string kPassword = "correct horse";

std::string login_body(const std::string& user, const std::string& password)
{
    return nlohmann::json{{"username", user}, {"password", password}}.dump();
}

// A logged-in browser of `user`: its request carries the session cookie.
httplib::Request logged_in(TestDevice& t, const std::string& user,
                           const std::string& password = kPassword)
{
    auto answer = t.call("POST", "/api/v1/session", login_body(user, password));
    REQUIRE(answer.status == 200);
    std::string cookie = answer.headers.find("Set-Cookie")->second;
    httplib::Request request;
    request.headers.emplace("Cookie", cookie.substr(0, cookie.find(';')));
    return request;
}

std::string add_body(const std::string& user, const std::string& password,
                     const std::string& role = "staff")
{
    return nlohmann::json{{"username", user}, {"password", password}, {"role", role}}.dump();
}

// The newest audit entry.
nlohmann::json last_audit(TestDevice& t)
{
    auto entries = t.store().audit_entries(1);
    REQUIRE(entries.size() == 1);
    return entries.front().body;
}

struct Accounts {
    Accounts()
    {
        t.add_staff("root", kPassword);                        // admin
        t.add_staff("desk", kPassword, ck::StaffRole::staff);  // staff
    }
    TestDevice t;
};

}  // namespace

TEST_CASE("account list: an admin sees every account without hashes; staff get 403 forbidden")
{
    Accounts a;
    auto list = a.t.call("GET", "/api/v1/staff", "", "root");
    REQUIRE(list.status == 200);
    auto accounts = list.json()["accounts"];
    REQUIRE(accounts.size() == 2);
    CHECK(accounts[0]["username"] == "desk");
    CHECK(accounts[0]["role"] == "staff");
    CHECK(accounts[0]["disabled"] == false);
    CHECK(accounts[1]["username"] == "root");
    CHECK(accounts[1]["role"] == "admin");
    CHECK(accounts[1]["created"].is_null());  // made without a time (as before roles)
    CHECK(list.body.find("scrypt") == std::string::npos);
    CHECK(list.body.find("hash") == std::string::npos);

    // Every account route refuses a non-admin with the same stable code.
    struct Case {
        const char* method;
        const char* path;
        std::string body;
    };
    for (const Case& c : {Case{"GET", "/api/v1/staff", ""},
                          Case{"POST", "/api/v1/staff", add_body("new1", kPassword)},
                          Case{"PUT", "/api/v1/staff/root/password", R"({"password":"12345678"})"},
                          Case{"PUT", "/api/v1/staff/root", R"({"disabled":true})"},
                          Case{"PUT", "/api/v1/staff/desk", R"({"role":"admin"})"}}) {
        CAPTURE(c.method);
        CAPTURE(c.path);
        auto refused = a.t.call(c.method, c.path, c.body, "desk");
        CHECK(refused.status == 403);
        CHECK(refused.code() == "forbidden");
    }
    CHECK(a.t.store().staff("root")->disabled == false);
    CHECK(a.t.store().staff("desk")->role == ck::StaffRole::staff);
    CHECK_FALSE(a.t.store().staff("new1").has_value());
}

TEST_CASE("adding an account: 201, audited without the password; the account logs in")
{
    Accounts a;
    auto added = a.t.call("POST", "/api/v1/staff", add_body("anna.k", "a long password"), "root");
    REQUIRE(added.status == 201);
    CHECK(added.json()["account"]["username"] == "anna.k");
    CHECK(added.json()["account"]["role"] == "staff");
    CHECK(added.json()["account"]["disabled"] == false);
    CHECK(added.json()["account"]["created"] == "2026-11-23T08:40:00+01:00");
    CHECK(added.json()["account"]["last_login"].is_null());
    auto audit = last_audit(a.t);
    CHECK(audit["action"] == "staff_add");
    CHECK(audit["actor"] == "root");
    CHECK(audit["details"]["username"] == "anna.k");
    CHECK(audit["details"]["role"] == "staff");
    CHECK(audit.dump().find("a long password") == std::string::npos);

    auto login = a.t.call("POST", "/api/v1/session", login_body("anna.k", "a long password"));
    REQUIRE(login.status == 200);
    CHECK(login.json()["role"] == "staff");
    CHECK_FALSE(a.t.store().staff("anna.k")->last_login.empty());
}

TEST_CASE("adding an account: refusals")
{
    Accounts a;
    struct Case {
        std::string body;
        int status;
        const char* code;
    };
    for (const Case& c : {
             Case{add_body("desk", kPassword), 409, "staff_exists"},
             Case{add_body("root", kPassword, "admin"), 409, "staff_exists"},
             Case{add_body("new1", "short"), 422, "weak_password"},
             Case{add_body("new1", "1234567"), 422, "weak_password"},
             Case{add_body("new1", std::string(1025, 'x')), 422, "weak_password"},
             Case{add_body("no spaces", kPassword), 422, "invalid_staff"},
             Case{add_body(std::string(65, 'a'), kPassword), 422, "invalid_staff"},
             Case{add_body("new1", kPassword, "owner"), 400, "malformed_request"},
             Case{R"({"username":"new1","password":"long enough"})", 400, "malformed_request"},
             Case{R"({"username":"new1","password":12345678,"role":"staff"})", 400,
                  "malformed_request"},
             Case{"[1]", 400, "malformed_request"},
             Case{"{", 400, "malformed_request"},
         }) {
        CAPTURE(c.body);
        auto refused = a.t.call("POST", "/api/v1/staff", c.body, "root");
        CHECK(refused.status == c.status);
        CHECK(refused.code() == c.code);
    }
    CHECK(a.t.store().staff_accounts().size() == 2);
    // Exactly eight characters is enough (the command line's rule).
    CHECK(a.t.call("POST", "/api/v1/staff", add_body("new1", "12345678"), "root").status == 201);
}

TEST_CASE("a password reset by an admin: the new password works, the account's sessions end")
{
    Accounts a;
    const httplib::Request desk = logged_in(a.t, "desk");
    const httplib::Request root = logged_in(a.t, "root");
    REQUIRE(ck::find_staff_session(a.t.device(), desk));

    auto reset =
        a.t.call("PUT", "/api/v1/staff/desk/password", R"({"password":"new secret 1"})", "root");
    REQUIRE(reset.status == 200);
    CHECK(reset.json()["account"]["username"] == "desk");
    CHECK_FALSE(ck::find_staff_session(a.t.device(), desk));
    CHECK(ck::find_staff_session(a.t.device(), root));
    auto audit = last_audit(a.t);
    CHECK(audit["action"] == "staff_password_reset");
    CHECK(audit["actor"] == "root");
    CHECK(audit["details"]["username"] == "desk");
    CHECK(audit.dump().find("new secret 1") == std::string::npos);

    CHECK(a.t.call("POST", "/api/v1/session", login_body("desk", kPassword)).code() ==
          "bad_credentials");
    CHECK(a.t.call("POST", "/api/v1/session", login_body("desk", "new secret 1")).status == 200);

    CHECK(
        a.t.call("PUT", "/api/v1/staff/desk/password", R"({"password":"short"})", "root").code() ==
        "weak_password");
    CHECK(a.t.call("PUT", "/api/v1/staff/nobody/password", R"({"password":"long enough"})", "root")
              .status == 404);
    CHECK(a.t.call("PUT", "/api/v1/staff/desk/password", R"({"pass":"long enough"})", "root")
              .code() == "malformed_request");
}

TEST_CASE("a disabled account: its sessions end at once, it cannot log in, re-enabled it can")
{
    Accounts a;
    const httplib::Request desk = logged_in(a.t, "desk");
    REQUIRE(ck::find_staff_session(a.t.device(), desk));

    auto disabled = a.t.call("PUT", "/api/v1/staff/desk", R"({"disabled":true})", "root");
    REQUIRE(disabled.status == 200);
    CHECK(disabled.json()["account"]["disabled"] == true);
    CHECK_FALSE(ck::find_staff_session(a.t.device(), desk));
    auto audit = last_audit(a.t);
    CHECK(audit["action"] == "staff_disable");
    CHECK(audit["actor"] == "root");
    CHECK(audit["details"]["username"] == "desk");

    // The right password of a disabled account answers as a wrong one does.
    auto right = a.t.call("POST", "/api/v1/session", login_body("desk", kPassword));
    auto wrong = a.t.call("POST", "/api/v1/session", login_body("desk", "not it at all"));
    CHECK(right.status == 401);
    CHECK(right.code() == "bad_credentials");
    CHECK(right.body == wrong.body);
    CHECK(right.headers.find("Set-Cookie") == right.headers.end());

    // A session written for it anyway (a login racing the disable) is not accepted.
    REQUIRE(a.t.store().put_staff_session(
        ck::sha256_hex(std::string(64, 'a')),
        {{"username", "desk"}, {"csrf", "x"}, {"expires", std::int64_t{4'000'000'000}}}));
    httplib::Request raced;
    raced.headers.emplace("Cookie", "ck_staff=" + std::string(64, 'a'));
    CHECK_FALSE(ck::find_staff_session(a.t.device(), raced));

    auto enabled = a.t.call("PUT", "/api/v1/staff/desk", R"({"disabled":false})", "root");
    REQUIRE(enabled.status == 200);
    CHECK(last_audit(a.t)["action"] == "staff_enable");
    CHECK(a.t.call("POST", "/api/v1/session", login_body("desk", kPassword)).status == 200);
}

TEST_CASE("roles: an admin promotes and demotes others; the session tells the dashboard")
{
    Accounts a;
    auto promoted = a.t.call("PUT", "/api/v1/staff/desk", R"({"role":"admin"})", "root");
    REQUIRE(promoted.status == 200);
    CHECK(promoted.json()["account"]["role"] == "admin");
    auto audit = last_audit(a.t);
    CHECK(audit["action"] == "staff_role");
    CHECK(audit["details"]["role"] == "admin");
    CHECK(audit["details"]["previous_role"] == "staff");
    // desk, now an admin, may manage accounts.
    CHECK(a.t.call("GET", "/api/v1/staff", "", "desk").status == 200);
    CHECK(a.t.call("PUT", "/api/v1/staff/root", R"({"role":"staff"})", "desk").status == 200);
    CHECK(a.t.call("GET", "/api/v1/staff", "", "root").code() == "forbidden");

    // GET /api/v1/session says the role.
    const httplib::Request root = logged_in(a.t, "root");
    auto session = ck::find_staff_session(a.t.device(), root);
    REQUIRE(session);
    CHECK(session->role == "staff");
    auto answer = a.t.call("GET", "/api/v1/session", "", "root", root.headers);
    REQUIRE(answer.status == 200);
    CHECK(answer.json()["role"] == "staff");

    CHECK(a.t.call("PUT", "/api/v1/staff/root", R"({"role":"boss"})", "desk").code() ==
          "malformed_request");
    CHECK(a.t.call("PUT", "/api/v1/staff/root", R"({"disabled":"yes"})", "desk").code() ==
          "malformed_request");
    CHECK(a.t.call("PUT", "/api/v1/staff/root", R"({})", "desk").code() == "malformed_request");
    CHECK(a.t.call("PUT", "/api/v1/staff/nobody", R"({"disabled":true})", "desk").status == 404);
}

TEST_CASE("nobody disables or demotes themselves, and the last enabled admin stays")
{
    Accounts a;
    for (const char* body :
         {R"({"disabled":true})", R"({"role":"staff"})", R"({"role":"staff","disabled":true})"}) {
        CAPTURE(body);
        auto refused = a.t.call("PUT", "/api/v1/staff/root", body, "root");
        CHECK(refused.status == 409);
        CHECK(refused.code() == "own_account");
    }
    auto root = a.t.store().staff("root");
    CHECK(root->role == ck::StaffRole::admin);
    CHECK_FALSE(root->disabled);
    // Asking for what is already so is not a change.
    CHECK(a.t.call("PUT", "/api/v1/staff/root", R"({"role":"admin"})", "root").status == 200);

    // The last enabled admin, changed by someone else (the command line) is refused too.
    bool existed = false;
    auto demoted = ck::put_staff_from_command_line(a.t.device(), "root", "another password",
                                                   ck::StaffRole::staff, existed);
    CHECK(existed);
    REQUIRE_FALSE(demoted.is_ok());
    CHECK(demoted.status().code() == "last_admin");
    CHECK(a.t.store().staff("root")->role == ck::StaffRole::admin);

    // With a second admin, one may disable the other; the disabled one no longer counts.
    REQUIRE(
        a.t.call("POST", "/api/v1/staff", add_body("chief", kPassword, "admin"), "root").status ==
        201);
    REQUIRE(a.t.call("PUT", "/api/v1/staff/root", R"({"disabled":true})", "chief").status == 200);
    CHECK(a.t.call("GET", "/api/v1/staff", "", "root").code() == "forbidden");
    auto last = ck::put_staff_from_command_line(a.t.device(), "chief", "another password",
                                                ck::StaffRole::staff, existed);
    CHECK(last.status().code() == "last_admin");
}

TEST_CASE("the command line makes admins by default and keeps an existing account's role")
{
    TestDevice t;
    bool existed = true;
    auto first = ck::put_staff_from_command_line(t.device(), "maria", "first password",
                                                 std::nullopt, existed);
    REQUIRE(first.is_ok());
    CHECK_FALSE(existed);
    CHECK(first->role == ck::StaffRole::admin);
    CHECK_FALSE(first->created.empty());
    CHECK(last_audit(t)["action"] == "staff_add");
    CHECK(last_audit(t)["actor"] == "command line");

    auto desk = ck::put_staff_from_command_line(t.device(), "desk", "first password",
                                                ck::StaffRole::staff, existed);
    REQUIRE(desk.is_ok());
    CHECK(desk->role == ck::StaffRole::staff);
    auto reset = ck::put_staff_from_command_line(t.device(), "desk", "second password",
                                                 std::nullopt, existed);
    REQUIRE(reset.is_ok());
    CHECK(existed);
    CHECK(reset->role == ck::StaffRole::staff);
    CHECK(reset->created == desk->created);
    CHECK(last_audit(t)["action"] == "staff_password_reset");
    CHECK(ck::put_staff_from_command_line(t.device(), "desk", "short", std::nullopt, existed)
              .status()
              .code() == "weak_password");
}

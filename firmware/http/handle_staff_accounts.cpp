// Staff accounts, for admins (app/staff_accounts.hpp decides; this file parses and answers):
// GET /api/v1/staff, POST /api/v1/staff, PUT /api/v1/staff/{name}/password and
// PUT /api/v1/staff/{name} (role, disabled). Bodies: schemas/staff-*.schema.json.
#include "app/device.hpp"
#include "app/staff_accounts.hpp"
#include "http/routes.hpp"
#include "net/error.hpp"

namespace ck {
namespace {

nlohmann::json account_to_json(const StaffAccount& account)
{
    const auto optional = [](const std::string& s) {
        return s.empty() ? nlohmann::json(nullptr) : nlohmann::json(s);
    };
    return {{"username", account.username},
            {"role", staff_role_name(account.role)},
            {"disabled", account.disabled},
            {"created", optional(account.created)},
            {"last_login", optional(account.last_login)}};
}

Status malformed(const std::string& expected)
{
    return Status::error(err::malformed_request, "The request body must be " + expected + ".",
                         "See schemas/ for the staff account bodies.");
}

Result<nlohmann::json> parse_object(const std::string& body, const std::string& expected)
{
    auto json = nlohmann::json::parse(body, nullptr, false);
    if (json.is_discarded() || !json.is_object()) return malformed(expected);
    return json;
}

Result<StaffRole> parse_role(const nlohmann::json& value)
{
    auto role = value.is_string() ? parse_staff_role(value.get<std::string>()) : std::nullopt;
    if (!role) {
        return Status::error(err::malformed_request, "role must be \"admin\" or \"staff\".",
                             "staff run the day; an admin also manages the accounts.");
    }
    return *role;
}

void answer(httplib::Response& res, int status, const Result<StaffAccount>& account)
{
    if (!account) {
        write_error(res, account.status());
        return;
    }
    write_json(res, status, {{"account", account_to_json(*account)}});
}

}  // namespace

void handle_list_staff(const ApiRequest& request, httplib::Response& res)
{
    auto accounts = list_staff_accounts(request.device, request.staff);
    if (!accounts) {
        write_error(res, accounts.status());
        return;
    }
    nlohmann::json list = nlohmann::json::array();
    for (const auto& account : *accounts) list.push_back(account_to_json(account));
    write_json(res, 200, {{"accounts", list}});
}

void handle_add_staff(const ApiRequest& request, httplib::Response& res)
{
    const char* expected = R"({"username": "...", "password": "...", "role": "staff"})";
    auto body = parse_object(request.body, expected);
    if (!body) {
        write_error(res, body.status());
        return;
    }
    if (!body->contains("username") || !(*body)["username"].is_string() ||
        !body->contains("password") || !(*body)["password"].is_string() ||
        !body->contains("role")) {
        write_error(res, malformed(expected));
        return;
    }
    auto role = parse_role((*body)["role"]);
    if (!role) {
        write_error(res, role.status());
        return;
    }
    NewStaffAccount account{(*body)["username"], (*body)["password"], *role};
    answer(res, 201, add_staff_account(request.device, request.staff, account));
}

void handle_reset_staff_password(const ApiRequest& request, httplib::Response& res)
{
    const char* expected = R"({"password": "..."})";
    auto body = parse_object(request.body, expected);
    if (!body) {
        write_error(res, body.status());
        return;
    }
    if (!body->contains("password") || !(*body)["password"].is_string()) {
        write_error(res, malformed(expected));
        return;
    }
    answer(res, 200,
           reset_staff_password(request.device, request.staff, request.http.matches[1],
                                (*body)["password"]));
}

void handle_change_staff(const ApiRequest& request, httplib::Response& res)
{
    const char* expected = R"({"role": "admin" or "staff", "disabled": true or false})";
    auto body = parse_object(request.body, expected);
    if (!body) {
        write_error(res, body.status());
        return;
    }
    StaffAccessChange change;
    if (body->contains("role")) {
        auto role = parse_role((*body)["role"]);
        if (!role) {
            write_error(res, role.status());
            return;
        }
        change.role = *role;
    }
    if (body->contains("disabled")) {
        if (!(*body)["disabled"].is_boolean()) {
            write_error(res, malformed(expected));
            return;
        }
        change.disabled = (*body)["disabled"].get<bool>();
    }
    if (!change.role && !change.disabled) {
        write_error(res, malformed(expected));
        return;
    }
    answer(res, 200,
           change_staff_access(request.device, request.staff, request.http.matches[1], change));
}

}  // namespace ck

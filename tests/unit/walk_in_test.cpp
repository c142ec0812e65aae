// A walk-in (app/walk_in.hpp) through POST /api/v1/attendees: added with the roster's
// rules and write path, refused with a code for each kind of mistake, audited, and then an
// attendee like any other: their badge prints and checks in.
#include <doctest/doctest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "test_device.hpp"

namespace {

using ck::test::TestDevice;

TestDevice::Answer add(TestDevice& t, const nlohmann::json& body)
{
    return t.call("POST", "/api/v1/attendees", body.dump(), "maria");
}

}  // namespace

TEST_CASE("walk-in: added, audited, and their badge prints and checks in")
{
    TestDevice t;
    auto created = add(t, {{"id", " W-100 "},
                           {"family_name", "Papadopoulou"},
                           {"given_name", " Eleni "},
                           {"email", "eleni@example.org"},
                           {"country", "GR"},
                           {"note", "ignored, as in a roster"}});
    REQUIRE(created.status == 201);
    const nlohmann::json body = created.json();
    CHECK(body["status"] == "created");
    CHECK(body["attendee"] == nlohmann::json{{"id", "W-100"},
                                             {"family_name", "Papadopoulou"},
                                             {"given_name", "Eleni"},
                                             {"email", "eleni@example.org"},
                                             {"country", "GR"}});
    CHECK(body["badge_url"] == "/api/v1/badges?ids=W-100");
    auto stored = t.store().attendee("W-100");
    REQUIRE(stored);
    CHECK(stored->display_name() == "Eleni Papadopoulou");
    CHECK(t.store().attendee_count() == 4);

    // Optional fields may be left out or null.
    auto minimal = add(t, {{"id", "W-101"},
                           {"family_name", "Ó Súilleabháin"},
                           {"given_name", "Aoife"},
                           {"email", nullptr}});
    CHECK(minimal.status == 201);
    CHECK(minimal.json()["attendee"]["email"].is_null());
    CHECK(minimal.json()["attendee"]["country"].is_null());

    // Who added whom, newest first.
    auto audit = t.call("GET", "/api/v1/audit", "", "maria").json()["entries"];
    REQUIRE(audit.size() >= 2);
    CHECK(audit[0]["action"] == "walk_in");
    CHECK(audit[0]["actor"] == "maria");
    CHECK(audit[0]["details"]["attendee_id"] == "W-101");
    CHECK(audit[1]["action"] == "walk_in");
    CHECK(audit[1]["details"] == nlohmann::json{{"attendee_id", "W-100"},
                                                {"family_name", "Papadopoulou"},
                                                {"given_name", "Eleni"}});

    // The badge sheet of the new attendee alone.
    auto sheet = t.call("GET", "/api/v1/badges?ids=W-100", "", "maria");
    CHECK(sheet.status == 200);
    CHECK(sheet.body.find("data-attendee-id=\"W-100\"") != std::string::npos);
    CHECK(sheet.body.find("Papadopoulou") != std::string::npos);
    CHECK(sheet.body.find("data-attendee-id=\"A001\"") == std::string::npos);

    // Their badge checks in as a rostered attendee's does.
    auto checkin = t.call("POST", "/api/v1/checkins",
                          nlohmann::json{{"credential", t.credential("W-100")}}.dump());
    CHECK(checkin.status == 201);
    CHECK(checkin.json()["status"] == "checked_in");
    CHECK(checkin.json()["attendee"]["display_name"] == "Eleni P.");
    CHECK_FALSE(checkin.json()["checkin"].value("not_in_roster", false));
    auto listed = t.call("GET", "/api/v1/attendees?q=eleni", "", "maria").json();
    REQUIRE(listed["attendees"].size() == 1);
    CHECK(listed["attendees"][0]["checkins"]["d1-am"]["source"] == "badge");
}

TEST_CASE("walk-in: a registration number already in the roster, in any case, is 409")
{
    TestDevice t;
    for (const char* id : {"A001", "a001"}) {
        CAPTURE(id);
        auto again = add(t, {{"id", id}, {"family_name", "Someone"}, {"given_name", "Else"}});
        CHECK(again.status == 409);
        CHECK(again.code() == "attendee_exists");
        CHECK(again.json()["error"]["details"]["existing_id"] == "A001");
        CHECK(again.json()["error"]["message"].get<std::string>().find("Anna Kowalska") !=
              std::string::npos);
    }
    // Nothing was changed, nothing audited.
    CHECK(t.store().attendee("A001")->family_name == "Kowalska");
    CHECK_FALSE(t.store().attendee("a001"));
    const nlohmann::json audit = t.call("GET", "/api/v1/audit", "", "maria").json();
    for (const auto& entry : audit["entries"]) {
        CHECK(entry["action"] != "walk_in");
    }
    // A walk-in added twice (a double click) is the same case.
    const nlohmann::json walk_in = {{"id", "W1"}, {"family_name", "New"}, {"given_name", "Person"}};
    CHECK(add(t, walk_in).status == 201);
    CHECK(add(t, walk_in).code() == "attendee_exists");
}

TEST_CASE("walk-in: each kind of bad input has its code, and nothing is stored")
{
    TestDevice t;
    struct Case {
        const char* name;
        std::string body;
        int status;
        const char* code;
        const char* field;    // details.field of invalid_attendee
        const char* problem;  // details.problem: the roster import's row code
    };
    const nlohmann::json good = {{"id", "W9"}, {"family_name", "Fam"}, {"given_name", "Giv"}};
    const auto with = [&](const char* key, const nlohmann::json& value) {
        nlohmann::json body = good;
        body[key] = value;
        return body.dump();
    };
    const auto without = [&](const char* key) {
        nlohmann::json body = good;
        body.erase(key);
        return body.dump();
    };
    const Case cases[] = {
        {"not JSON", "{", 400, "malformed_request", nullptr, nullptr},
        {"not an object", "[]", 400, "malformed_request", nullptr, nullptr},
        {"a string", R"("W9")", 400, "malformed_request", nullptr, nullptr},
        {"empty body", "", 422, "invalid_attendee", "id", "missing_field"},
        {"no registration number", without("id"), 422, "invalid_attendee", "id", "missing_field"},
        {"blank registration number", with("id", "   "), 422, "invalid_attendee", "id",
         "missing_field"},
        {"a space in the number", with("id", "W 9"), 422, "invalid_attendee", "id", "invalid_id"},
        {"number too long", with("id", std::string(65, 'W')), 422, "invalid_attendee", "id",
         "too_long"},
        {"number not a string", with("id", 9), 422, "invalid_attendee", "id", "wrong_type"},
        {"no family name", without("family_name"), 422, "invalid_attendee", "family_name",
         "missing_field"},
        {"no given name", with("given_name", ""), 422, "invalid_attendee", "given_name",
         "missing_field"},
        {"family name too long", with("family_name", std::string(101, 'A')), 422,
         "invalid_attendee", "family_name", "too_long"},
        {"not UTF-8 (JSON is)", "{\"id\":\"W9\",\"family_name\":\"\xff\"}", 400,
         "malformed_request", nullptr, nullptr},
        {"bad e-mail", with("email", "not an address"), 422, "invalid_attendee", "email",
         "invalid_email"},
        {"country too long", with("country", std::string(65, 'x')), 422, "invalid_attendee",
         "country", "too_long"},
    };
    for (const Case& c : cases) {
        CAPTURE(c.name);
        auto answer = t.call("POST", "/api/v1/attendees", c.body, "maria");
        CHECK(answer.status == c.status);
        CHECK(answer.code() == c.code);
        const nlohmann::json error = answer.json()["error"];
        CHECK_FALSE(error["message"].get<std::string>().empty());
        if (c.field != nullptr) {
            CHECK(error["details"]["field"] == c.field);
            CHECK(error["details"]["problem"] == c.problem);
        }
    }
    CHECK(t.store().attendee_count() == 3);
    CHECK_FALSE(t.store().attendee("W9"));
}

TEST_CASE("walk-in: the real server refuses it without a session or CSRF token, or too big")
{
    TestDevice t;
    t.add_staff("maria", "correct horse");
    const int port = t.serve();
    httplib::Client client("127.0.0.1", port);
    client.set_read_timeout(10);
    const std::string body = R"({"id":"W7","family_name":"Walk","given_name":"In"})";

    auto anonymous = client.Post("/api/v1/attendees", body, "application/json");
    REQUIRE(anonymous);
    CHECK(anonymous->status == 401);
    CHECK(nlohmann::json::parse(anonymous->body)["error"]["code"] == "unauthenticated");

    auto login =
        client.Post("/api/v1/session", R"({"username":"maria","password":"correct horse"})",
                    "application/json");
    REQUIRE(login);
    REQUIRE(login->status == 200);
    const std::string cookie = login->get_header_value("Set-Cookie");
    httplib::Headers session = {{"Cookie", cookie.substr(0, cookie.find(';'))}};
    auto no_csrf = client.Post("/api/v1/attendees", session, body, "application/json");
    REQUIRE(no_csrf);
    CHECK(no_csrf->status == 403);
    CHECK_FALSE(t.store().attendee("W7"));

    session.emplace("X-CSRF-Token", nlohmann::json::parse(login->body)["csrf_token"]);
    const std::string huge = nlohmann::json{
        {"id", "W8"},
        {"family_name", std::string(5000, 'x')},
        {"given_name", "G"}}.dump();
    auto too_big = client.Post("/api/v1/attendees", session, huge, "application/json");
    REQUIRE(too_big);
    CHECK(too_big->status == 413);
    CHECK_FALSE(t.store().attendee("W8"));

    auto created = client.Post("/api/v1/attendees", session, body, "application/json");
    REQUIRE(created);
    CHECK(created->status == 201);
    CHECK(t.store().attendee("W7"));
}

TEST_CASE("walk-in: the same number sent from several desks at once is added exactly once")
{
    TestDevice t;
    std::atomic<int> created{0};
    std::atomic<int> exists{0};
    std::vector<std::thread> desks;
    for (int i = 0; i < 8; ++i) {
        desks.emplace_back([&, i] {
            // Mixed case: one person to the phones and the searches.
            const char* id = i % 2 == 0 ? "W-RACE" : "w-race";
            auto answer = add(t, {{"id", id}, {"family_name", "Race"}, {"given_name", "Desk"}});
            if (answer.status == 201) ++created;
            if (answer.code() == "attendee_exists") ++exists;
        });
    }
    for (std::thread& desk : desks) desk.join();
    CHECK(created == 1);
    CHECK(exists == 7);
    CHECK(t.store().attendee_count() == 4);
    CHECK(t.store().attendees_with_id_ignoring_case("W-RACE").size() == 1);
}

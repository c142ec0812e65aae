// The reports (app/reports.hpp) and the paged attendee list (app/attendee_list.hpp) through
// their routes: streamed answers equal the whole reports, byte for byte, and pages cover
// the roster exactly once.
#include <doctest/doctest.h>

#include <set>

#include "app/attendee_list.hpp"
#include "app/reports.hpp"
#include "test_device.hpp"

namespace {

using ck::test::TestDevice;

// A001..A003 (the test roster) and `n` more, R0000..; R0001, R0003 ... checked in to d1-am.
void big_roster(TestDevice& t, int n)
{
    std::vector<ck::Attendee> roster;
    for (int i = 0; i < n; ++i) {
        char id[8];
        std::snprintf(id, sizeof id, "R%04d", i);
        roster.push_back({id, "Family" + std::to_string(i), "Given" + std::to_string(i),
                          "r" + std::to_string(i) + "@example.org", i % 2 ? "FR" : "DE"});
    }
    REQUIRE(t.store().import_roster(roster).is_ok());
    const ck::ResolvedSession* am = t.device().schedule->find("d1-am");
    REQUIRE(am != nullptr);
    for (int i = 1; i < n; i += 2) {
        REQUIRE(
            t.checkins().manual(roster[static_cast<std::size_t>(i)].id, am, "maria", "").is_ok());
    }
}

// Every page of `path` (which has a query already), following next: the ids in order.
std::vector<std::string> all_pages(TestDevice& t, const std::string& path, std::size_t limit,
                                   std::size_t& pages, std::size_t& matched)
{
    std::vector<std::string> ids;
    std::string cursor;
    pages = 0;
    for (;;) {
        std::string url = path + "&limit=" + std::to_string(limit);
        if (!cursor.empty()) url += "&cursor=" + cursor;
        auto answer = t.call("GET", url, "", "maria");
        REQUIRE(answer.status == 200);
        const nlohmann::json body = answer.json();
        ++pages;
        CHECK(body["attendees"].size() <= limit);
        CHECK(body["limit"] == limit);
        matched = body["matched"].get<std::size_t>();
        for (const auto& a : body["attendees"]) ids.push_back(a["id"]);
        if (body["next"].is_null()) break;
        REQUIRE(body["next"] == ids.back());
        cursor = body["next"];
        REQUIRE(pages < 100);
    }
    return ids;
}

}  // namespace

TEST_CASE("GET /api/v1/attendees pages through the roster in id order, each attendee once")
{
    TestDevice t;
    big_roster(t, 250);  // 253 attendees
    struct Case {
        const char* query;
        std::size_t limit;
        std::size_t expect_matched;
        std::size_t expect_pages;
    };
    const Case cases[] = {
        {"?q=", 100, 253, 3},
        {"?q=", 253, 253, 1},  // exactly one page: no next
        {"?q=", 252, 253, 2},
        {"?q=", 1000, 253, 1},
        {"?q=family1", 7, 111, 16},  // Family1, Family10..19, Family100..199
        {"?session=d1-am&present=true", 50, 125, 3},
        {"?session=d1-am&present=false", 100, 128, 2},
        {"?q=family1&session=d1-am&present=true", 20, 56, 3},
    };
    for (const Case& c : cases) {
        CAPTURE(c.query);
        CAPTURE(c.limit);
        std::size_t pages = 0;
        std::size_t matched = 0;
        auto ids =
            all_pages(t, std::string("/api/v1/attendees") + c.query, c.limit, pages, matched);
        CHECK(matched == c.expect_matched);
        CHECK(ids.size() == c.expect_matched);
        CHECK(pages == c.expect_pages);
        CHECK(std::is_sorted(ids.begin(), ids.end()));
        CHECK(std::set<std::string>(ids.begin(), ids.end()).size() == ids.size());
    }

    // The default page, and its answer's shape.
    auto first = t.call("GET", "/api/v1/attendees", "", "maria").json();
    CHECK(first["attendees"].size() == ck::kAttendeePageDefault);
    CHECK(first["total"] == 253);
    CHECK(first["matched"] == 253);
    CHECK(first["next"] == first["attendees"].back()["id"]);
    CHECK(first["attendees"][0]["id"] == "A001");
    auto present =
        t.call("GET", "/api/v1/attendees?session=d1-am&present=true&limit=1", "", "maria");
    CHECK(present.json()["attendees"][0]["checkins"].contains("d1-am"));

    // Refused: the envelope's malformed_request, 400.
    for (const char* bad : {"?limit=0", "?limit=1001", "?limit=abc", "?limit=-5",
                            "?limit=", "?limit=10x", "?present=maybe&session=d1-am",
                            "?present=true", "?session=nope&present=true", "?session=d1-am"}) {
        CAPTURE(bad);
        auto answer = t.call("GET", std::string("/api/v1/attendees") + bad, "", "maria");
        CHECK(answer.status == 400);
        CHECK(answer.code() == "malformed_request");
    }
}

TEST_CASE("the exports and the badge sheet are streamed, the same bytes as the whole report")
{
    TestDevice t;
    big_roster(t, 300);
    // Not in the roster, in two sessions: listed after the roster, by session then id.
    auto record = [&](const char* attendee, const char* session) {
        ck::NewCheckin c;
        c.module_id = ck::test::kModuleId;
        c.attendee_id = attendee;
        c.session_id = session;
        c.at = t.device().clock.now();
        c.at_text = ck::format_rfc3339(c.at, t.device().config.module.zone);
        c.source = "badge";
        c.issue = 1;
        REQUIRE(t.store().record_checkin(c).is_ok());
    };
    record("ZZ-9", "d1-pm");
    record("YY-8", "d1-am");
    record("ZZ-9", "d1-am");
    record("XX-7", "d1-pm");

    auto json = t.call("GET", "/api/v1/export?format=json", "", "maria");
    REQUIRE(json.status == 200);
    CHECK(json.streamed);
    CHECK(json.pieces > 1);
    const nlohmann::json whole = ck::export_json(t.device());
    CHECK(json.body == whole.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    const nlohmann::json people = json.json()["attendees"];
    REQUIRE(people.size() == 306);
    CHECK(people[0]["id"] == "A001");
    CHECK(people[302]["id"] == "R0299");
    CHECK(people[302]["not_in_roster"] == false);
    CHECK(people[303]["id"] == "YY-8");  // d1-am: YY-8, ZZ-9; then d1-pm: XX-7
    CHECK(people[304]["id"] == "ZZ-9");
    CHECK(people[304]["checkins"].size() == 2);
    CHECK(people[305]["id"] == "XX-7");
    CHECK(people[305]["not_in_roster"] == true);

    for (char sep : {',', ';'}) {
        CAPTURE(sep);
        auto csv = t.call(
            "GET",
            sep == ',' ? "/api/v1/export?format=csv" : "/api/v1/export?format=csv&sep=semicolon",
            "", "maria");
        REQUIRE(csv.status == 200);
        CHECK(csv.streamed);
        CHECK(csv.pieces > 1);
        CHECK(csv.body == ck::export_csv(t.device(), sep));
        CHECK(csv.body.rfind("\xEF\xBB\xBF"
                             "attendee_id",
                             0) == 0);
        // A header and a row per attendee and session (3 sessions).
        std::size_t rows = 0;
        for (std::size_t at = 0; (at = csv.body.find("\r\n", at)) != std::string::npos; at += 2) {
            ++rows;
        }
        CHECK(rows == 1 + 306 * 3);
        CHECK(csv.body.find(std::string("R0001") + sep + "Family1" + sep + "Given1" + sep + "FR") !=
              std::string::npos);
    }

    auto sheet = t.call("GET", "/api/v1/badges", "", "maria");
    REQUIRE(sheet.status == 200);
    CHECK(sheet.streamed);
    CHECK(sheet.pieces > 10);
    auto whole_sheet = ck::render_badge_sheet(t.device(), {});
    REQUIRE(whole_sheet.is_ok());
    CHECK(sheet.body == *whole_sheet);
    std::size_t badges = 0;
    std::size_t pages = 0;
    for (std::size_t at = 0; (at = sheet.body.find("data-attendee-id=", at)) != std::string::npos;
         ++at) {
        ++badges;
    }
    for (std::size_t at = 0;
         (at = sheet.body.find("<div class=\"page\">", at)) != std::string::npos; ++at) {
        ++pages;
    }
    CHECK(badges == 303);  // the roster only
    CHECK(pages == 38);    // 8 a page
    CHECK(sheet.body.substr(sheet.body.size() - 22) == "</div>\n</body></html>\n");

    // An unknown id is refused before anything is sent.
    auto refused = t.call("GET", "/api/v1/badges?ids=A001,NOPE", "", "maria");
    CHECK(refused.status == 404);
    CHECK_FALSE(refused.streamed);
    auto two = t.call("GET", "/api/v1/badges?ids=R0003,A001", "", "maria");
    REQUIRE(two.status == 200);
    CHECK(two.body.find("R0003") < two.body.find("A001"));
}

TEST_CASE("a report stops when its sink refuses a piece")
{
    TestDevice t;
    big_roster(t, 400);
    std::size_t calls = 0;
    CHECK_FALSE(ck::write_export_json(t.device(), [&](std::string_view) { return ++calls < 2; }));
    CHECK(calls == 2);
    calls = 0;
    CHECK_FALSE(
        ck::write_badge_sheet(t.device(), {}, [&](std::string_view) { return ++calls < 3; }));
    CHECK(calls == 3);
}

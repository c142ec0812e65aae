#include "core/module.hpp"

#include <date/tz.h>
#include <doctest/doctest.h>

#include <functional>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>

using nlohmann::json;

namespace {

const date::time_zone* tzdb_lookup(std::string_view name) { return date::locate_zone(name); }

// The config example of SPEC section 4, with a second day.
json example_module()
{
    return json::parse(R"({
      "cycle": "2026-2", "number": 3, "venue": "Lille", "timezone": "Europe/Paris",
      "checkin_opens_before_min": 60, "late_after_min": 15,
      "completion": {"min_sessions": 3},
      "days": [
        {"date": "2026-11-23", "sessions": [
          {"id": "d1-am", "label": "Monday morning", "start": "08:30", "end": "12:30", "cme_hours": 3.5},
          {"id": "d1-pm", "label": "Monday afternoon", "start": "14:00", "end": "18:00", "cme_hours": 3.5}]},
        {"date": "2026-11-24", "sessions": [
          {"id": "d2-am", "label": "Tuesday morning", "start": "08:30", "end": "12:30", "cme_hours": 3},
          {"id": "d2-pm", "label": "Tuesday evening", "start": "20:00", "end": "24:00", "cme_hours": 0}]}
      ]})");
}

json session(const char* id, const char* start, const char* end)
{
    return {{"id", id}, {"label", id}, {"start", start}, {"end", end}, {"cme_hours", 1}};
}

}  // namespace

TEST_CASE("parse_module reads the config example")
{
    const auto parsed = ck::parse_module(example_module(), tzdb_lookup);
    REQUIRE_MESSAGE(parsed.is_ok(), parsed.status().message());
    const ck::ModuleEdition& m = *parsed;
    CHECK(m.id() == "ecnr-2026-2-m3");
    CHECK(m.title == "Vascular Diseases");
    CHECK(m.venue == "Lille");
    CHECK(m.zone == date::locate_zone("Europe/Paris"));
    CHECK(m.checkin_opens_before_min == 60);
    CHECK(m.late_after_min == 15);
    CHECK(m.completion.min_sessions == 3);
    CHECK(m.session_count() == 4);
    REQUIRE(m.days.size() == 2);
    CHECK(m.days[1].date_text() == "2026-11-24");
    CHECK(m.days[0].sessions[0].start_min == 8 * 60 + 30);
    CHECK(m.days[0].sessions[0].cme_hours == 3.5);
    CHECK(m.days[1].sessions[1].end_min == 1440);
}

TEST_CASE("parse_module defaults, ignored keys and accepted edges")
{
    struct Case {
        const char* name;
        std::function<void(json&)> edit;
        std::function<void(const ck::ModuleEdition&)> check;
    };
    const Case cases[] = {
        {"defaults when absent",
         [](json& j) {
             j.erase("checkin_opens_before_min");
             j.erase("late_after_min");
             j.erase("completion");
         },
         [](const ck::ModuleEdition& m) {
             CHECK(m.checkin_opens_before_min == 60);
             CHECK(m.late_after_min == 15);
             CHECK(m.completion.min_sessions == 0);
             CHECK(m.completion.min_presence_pct == 80);
             CHECK(m.attendance.mode == ck::AttendanceMode::session);
             CHECK_FALSE(m.presence());
             CHECK(m.attendance.rescan_grace_s == 120);
             CHECK(m.attendance.count_missing_exit);
         }},
        {"presence mode with its options",
         [](json& j) {
             j["attendance"] = {
                 {"mode", "presence"}, {"rescan_grace_s", 0}, {"count_missing_exit", false}};
             j["completion"] = {{"min_presence_pct", 100}};
         },
         [](const ck::ModuleEdition& m) {
             CHECK(m.presence());
             CHECK(m.attendance.rescan_grace_s == 0);
             CHECK_FALSE(m.attendance.count_missing_exit);
             CHECK(m.completion.min_presence_pct == 100);
             CHECK(m.completion.min_sessions == 0);
         }},
        {"session mode said aloud",
         [](json& j) {
             j["attendance"] = {{"mode", "session"}};
         },
         [](const ck::ModuleEdition& m) { CHECK_FALSE(m.presence()); }},
        {"title key is ignored", [](json& j) { j["title"] = "Something else"; },
         [](const ck::ModuleEdition& m) { CHECK(m.title == "Vascular Diseases"); }},
        {"integral floats count as integers", [](json& j) { j["number"] = 1.0; },
         [](const ck::ModuleEdition& m) {
             CHECK(m.number == 1);
             CHECK(m.title == "Embryology / Anatomy / Malformations / Genetics");
         }},
        {"limits",
         [](json& j) {
             j["checkin_opens_before_min"] = 720;
             j["late_after_min"] = 0;
             j["completion"]["min_sessions"] = 4;
             j["days"][0]["sessions"][0]["cme_hours"] = 12;
             j["days"][0]["sessions"][0]["id"] = std::string(32, 'a');
             j["days"][0]["sessions"][1]["id"] = "0_-z";
         },
         [](const ck::ModuleEdition& m) {
             CHECK(m.checkin_opens_before_min == 720);
             CHECK(m.completion.min_sessions == 4);
         }},
        {"touching sessions and a whole day",
         [](json& j) {
             j["days"][0]["sessions"] = {session("a", "00:00", "12:00"),
                                         session("b", "12:00", "24:00")};
         },
         [](const ck::ModuleEdition& m) { CHECK(m.days[0].sessions[1].start_min == 720); }},
        {"seven days of six sessions",
         [](json& j) {
             j.erase("completion");
             j["days"] = json::array();
             for (int d = 0; d < 7; ++d) {
                 json sessions = json::array();
                 for (int s = 0; s < 6; ++s) {
                     const std::string id = "d" + std::to_string(d) + "-" + std::to_string(s);
                     const std::string start = "1" + std::to_string(s) + ":00";
                     const std::string end = "1" + std::to_string(s) + ":30";
                     sessions.push_back(session(id.c_str(), start.c_str(), end.c_str()));
                 }
                 j["days"].push_back(
                     {{"date", "2026-11-2" + std::to_string(d + 1)}, {"sessions", sessions}});
             }
         },
         [](const ck::ModuleEdition& m) { CHECK(m.session_count() == 42); }},
    };
    for (const auto& c : cases) {
        SUBCASE(c.name)
        {
            json j = example_module();
            c.edit(j);
            const auto parsed = ck::parse_module(j, tzdb_lookup);
            REQUIRE_MESSAGE(parsed.is_ok(), parsed.status().message());
            c.check(*parsed);
        }
    }
}

TEST_CASE("parse_module reports every invalid field with its JSON path")
{
    struct Case {
        std::function<void(json&)> edit;
        const char* message;  // expected message prefix
    };
    const auto set = [](const char* key, json value) {
        return [key, value](json& j) { j[key] = value; };
    };
    const auto erase = [](const char* key) { return [key](json& j) { j.erase(key); }; };
    const auto set_day = [](int d, const char* key, json value) {
        return [d, key, value](json& j) { j["days"][d][key] = value; };
    };
    const auto set_session = [](int d, int s, const char* key, json value) {
        return [d, s, key, value](json& j) { j["days"][d]["sessions"][s][key] = value; };
    };
    const auto erase_session = [](int d, int s, const char* key) {
        return [d, s, key](json& j) { j["days"][d]["sessions"][s].erase(key); };
    };
    const Case cases[] = {
        {[](json& j) { j = json::array(); }, "module: must be an object"},
        {[](json& j) { j = nullptr; }, "module: must be an object"},
        {set("late_after_mins", 15), "module.late_after_mins: is not a known key"},
        {set("id", "ecnr-2026-2-m3"), "module.id: is not a known key"},
        {erase("cycle"), "module.cycle: is required"},
        {set("cycle", nullptr), "module.cycle: must be a string"},
        {set("cycle", 2026), "module.cycle: must be a string"},
        {set("cycle", "2026-3"), "module.cycle: \"2026-3\" is not a cycle"},
        {set("cycle", "26-2"), "module.cycle: \"26-2\" is not a cycle"},
        {set("cycle", "2026-2 "), "module.cycle: \"2026-2 \" is not a cycle"},
        {set("cycle", "2026-12"), "module.cycle: \"2026-12\" is not a cycle"},
        {erase("number"), "module.number: is required"},
        {set("number", 0), "module.number: must be an integer from 1 to 4"},
        {set("number", 5), "module.number: must be an integer from 1 to 4"},
        {set("number", -3), "module.number: must be an integer from 1 to 4"},
        {set("number", "3"), "module.number: must be an integer from 1 to 4"},
        {set("number", 3.5), "module.number: must be an integer from 1 to 4"},
        {set("number", true), "module.number: must be an integer from 1 to 4"},
        {set("number", 18446744073709551615ULL), "module.number: must be an integer from 1 to 4"},
        {erase("venue"), "module.venue: is required"},
        {set("venue", ""), "module.venue: must not be empty"},
        {set("venue", "  "), "module.venue: must not be empty"},
        {set("venue", 7), "module.venue: must be a string"},
        {erase("timezone"), "module.timezone: is required"},
        {set("timezone", 1), "module.timezone: must be a string"},
        {set("timezone", "Mars/Olympus_Mons"), "module.timezone: unknown time zone"},
        {set("timezone", "europe/paris"), "module.timezone: unknown time zone"},
        {set("checkin_opens_before_min", -1),
         "module.checkin_opens_before_min: must be an integer from 0 to 720"},
        {set("checkin_opens_before_min", 721),
         "module.checkin_opens_before_min: must be an integer from 0 to 720"},
        {set("checkin_opens_before_min", "60"),
         "module.checkin_opens_before_min: must be an integer from 0 to 720"},
        {set("late_after_min", -1), "module.late_after_min: must be an integer from 0 to 720"},
        {set("late_after_min", 721), "module.late_after_min: must be an integer from 0 to 720"},
        {set("late_after_min", nullptr), "module.late_after_min: must be an integer from 0 to 720"},
        {set("late_after_min", json::array()),
         "module.late_after_min: must be an integer from 0 to 720"},
        {set("completion", "all"), "module.completion: must be an object"},
        {set("completion", nullptr), "module.completion: must be an object"},
        {set("completion", json::object()), "module.completion.min_sessions: is required"},
        {set("completion", json{{"min_presence_pct", 0}}),
         "module.completion.min_presence_pct: must be an integer from 1 to 100"},
        {set("completion", json{{"min_presence_pct", 101}}),
         "module.completion.min_presence_pct: must be an integer from 1 to 100"},
        {set("attendance", "presence"), "module.attendance: must be an object"},
        {set("attendance", json{{"mode", "doors"}}),
         "module.attendance.mode: must be \"session\" or \"presence\""},
        {set("attendance", json{{"mode", "presence"}, {"grace", 5}}),
         "module.attendance.grace: is not a known key"},
        {set("attendance", json{{"rescan_grace_s", -1}}),
         "module.attendance.rescan_grace_s: must be an integer from 0 to 3600"},
        {set("attendance", json{{"count_missing_exit", "yes"}}),
         "module.attendance.count_missing_exit: must be true or false"},
        {set("completion", json{{"min_sessions", 2}, {"rule", "all"}}),
         "module.completion.rule: is not a known key"},
        {set("completion", json{{"min_sessions", nullptr}}),
         "module.completion.min_sessions: must be an integer from 1 to 4"},
        {set("completion", json{{"min_sessions", 0}}),
         "module.completion.min_sessions: must be an integer from 1 to 4"},
        {set("completion", json{{"min_sessions", 5}}),
         "module.completion.min_sessions: must be an integer from 1 to 4"},
        {set("completion", json{{"min_sessions", 2.5}}),
         "module.completion.min_sessions: must be an integer from 1 to 4"},
        {erase("days"), "module.days: is required"},
        {set("days", json::object()), "module.days: must be an array"},
        {set("days", json::array()), "module.days: must hold 1 to 7 days"},
        {[](json& j) {
             for (int d = 3; d <= 8; ++d) {
                 j["days"].push_back(
                     {{"date", "2026-11-2" + std::to_string(d)},
                      {"sessions",
                       {session(("x" + std::to_string(d)).c_str(), "08:00", "09:00")}}});
             }
         },
         "module.days: must hold 1 to 7 days"},
        {[](json& j) { j["days"][1] = "2026-11-24"; }, "module.days[1]: must be an object"},
        {set_day(1, "note", "holiday"), "module.days[1].note: is not a known key"},
        {[](json& j) { j["days"][1].erase("date"); }, "module.days[1].date: is required"},
        {set_day(1, "date", 20261124), "module.days[1].date: must be a string"},
        {set_day(0, "date", "2026-02-30"),
         "module.days[0].date: \"2026-02-30\" is not a valid date"},
        {set_day(0, "date", "2026-13-01"),
         "module.days[0].date: \"2026-13-01\" is not a valid date"},
        {set_day(0, "date", "23/11/2026"),
         "module.days[0].date: \"23/11/2026\" is not a valid date"},
        {set_day(0, "date", "2026-11-23T00:00"),
         "module.days[0].date: \"2026-11-23T00:00\" is not a valid date"},
        {set_day(0, "date", "2026-1-23"), "module.days[0].date: \"2026-1-23\" is not a valid date"},
        {set_day(1, "date", "2026-11-23"),
         "module.days[1].date: must be after the previous day (2026-11-23)"},
        {set_day(1, "date", "2026-11-22"),
         "module.days[1].date: must be after the previous day (2026-11-23)"},
        {[](json& j) { j["days"][1].erase("sessions"); }, "module.days[1].sessions: is required"},
        {set_day(1, "sessions", json::object()), "module.days[1].sessions: must be an array"},
        {set_day(1, "sessions", json::array()),
         "module.days[1].sessions: must hold 1 to 6 sessions"},
        {[](json& j) {
             json sessions = json::array();
             for (int s = 0; s < 7; ++s) {
                 const std::string id = "s" + std::to_string(s);
                 const std::string start = "1" + std::to_string(s) + ":00";
                 sessions.push_back(session(id.c_str(), start.c_str(), start.c_str()));
             }
             j["days"][1]["sessions"] = sessions;
         },
         "module.days[1].sessions: must hold 1 to 6 sessions"},
        {[](json& j) { j["days"][1]["sessions"][0] = 3; },
         "module.days[1].sessions[0]: must be an object"},
        {set_session(1, 0, "room", "A"), "module.days[1].sessions[0].room: is not a known key"},
        {set_session(1, 0, "starts_at", "2026-11-24T08:30:00+01:00"),
         "module.days[1].sessions[0].starts_at: is not a known key"},
        {erase_session(1, 0, "id"), "module.days[1].sessions[0].id: is required"},
        {set_session(1, 0, "id", 12), "module.days[1].sessions[0].id: must be a string"},
        {set_session(1, 0, "id", ""), "module.days[1].sessions[0].id: must not be empty"},
        {set_session(1, 0, "id", "D2-am"),
         "module.days[1].sessions[0].id: \"D2-am\" is not a valid session id"},
        {set_session(1, 0, "id", "-d2"),
         "module.days[1].sessions[0].id: \"-d2\" is not a valid session id"},
        {set_session(1, 0, "id", "d2 am"),
         "module.days[1].sessions[0].id: \"d2 am\" is not a valid session id"},
        {set_session(1, 0, "id", "d2.am"),
         "module.days[1].sessions[0].id: \"d2.am\" is not a valid session id"},
        {set_session(1, 0, "id", std::string(33, 'a')),
         "module.days[1].sessions[0].id: \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\" is not a valid"},
        {set_session(1, 0, "id", "d1-am"),
         "module.days[1].sessions[0].id: \"d1-am\" is used by another session"},
        {set_session(0, 1, "id", "d1-am"),
         "module.days[0].sessions[1].id: \"d1-am\" is used by another session"},
        {erase_session(0, 1, "label"), "module.days[0].sessions[1].label: is required"},
        {set_session(0, 1, "label", ""), "module.days[0].sessions[1].label: must not be empty"},
        {set_session(0, 1, "label", false), "module.days[0].sessions[1].label: must be a string"},
        {erase_session(0, 1, "start"), "module.days[0].sessions[1].start: is required"},
        {set_session(0, 1, "start", 1400), "module.days[0].sessions[1].start: must be a string"},
        {set_session(0, 1, "start", "8:30"),
         "module.days[0].sessions[1].start: \"8:30\" is not a time of day"},
        {set_session(0, 1, "start", "14h00"),
         "module.days[0].sessions[1].start: \"14h00\" is not a time of day"},
        {set_session(0, 1, "start", "14:00:00"),
         "module.days[0].sessions[1].start: \"14:00:00\" is not a time of day"},
        {set_session(0, 1, "start", "23:60"),
         "module.days[0].sessions[1].start: \"23:60\" is not a time of day"},
        {set_session(0, 1, "start", "24:00"),
         "module.days[0].sessions[1].start: \"24:00\" is not a time of day"},
        {erase_session(0, 1, "end"), "module.days[0].sessions[1].end: is required"},
        {set_session(0, 1, "end", "24:01"),
         "module.days[0].sessions[1].end: \"24:01\" is not a time of day"},
        {set_session(0, 1, "end", "25:00"),
         "module.days[0].sessions[1].end: \"25:00\" is not a time of day"},
        {set_session(0, 1, "end", "14:00"),
         "module.days[0].sessions[1].end: must be after start (14:00)"},
        {set_session(0, 1, "end", "13:59"),
         "module.days[0].sessions[1].end: must be after start (14:00)"},
        {set_session(0, 1, "start", "12:29"),
         "module.days[0].sessions[1].start: must not be before the end of the previous session "
         "(12:30)"},
        {[](json& j) {
             j["days"][0]["sessions"] = {session("b", "14:00", "18:00"),
                                         session("a", "08:30", "12:30")};
         },
         "module.days[0].sessions[1].start: must not be before the end of the previous session "
         "(18:00)"},
        {erase_session(0, 1, "cme_hours"), "module.days[0].sessions[1].cme_hours: is required"},
        {set_session(0, 1, "cme_hours", -0.5),
         "module.days[0].sessions[1].cme_hours: must be a number from 0 to 12"},
        {set_session(0, 1, "cme_hours", 12.5),
         "module.days[0].sessions[1].cme_hours: must be a number from 0 to 12"},
        {set_session(0, 1, "cme_hours", "3"),
         "module.days[0].sessions[1].cme_hours: must be a number from 0 to 12"},
        {set_session(0, 1, "cme_hours", true),
         "module.days[0].sessions[1].cme_hours: must be a number from 0 to 12"},
    };
    for (const auto& c : cases) {
        CAPTURE(c.message);
        json j = example_module();
        c.edit(j);
        const auto parsed = ck::parse_module(j, tzdb_lookup);
        REQUIRE_FALSE(parsed.is_ok());
        CHECK(parsed.status().code() == "invalid_config");
        CHECK(parsed.status().message().rfind(c.message, 0) == 0);
        CHECK_FALSE(parsed.status().hint().empty());
    }
}

TEST_CASE("parse_module never lets a lookup exception escape")
{
    const json j = example_module();
    const ck::ZoneLookup throwing = [](std::string_view) -> const date::time_zone* {
        throw std::runtime_error("tzdb missing");
    };
    const ck::ZoneLookup returns_null = [](std::string_view) -> const date::time_zone* {
        return nullptr;
    };
    for (const ck::ZoneLookup& lookup : {throwing, returns_null, ck::ZoneLookup{}}) {
        const auto parsed = ck::parse_module(j, lookup);
        REQUIRE_FALSE(parsed.is_ok());
        CHECK(parsed.status().message() == "module.timezone: unknown time zone \"Europe/Paris\"");
    }
}

TEST_CASE("module_to_json shows the module with its resolved instants")
{
    const auto parsed = ck::parse_module(example_module(), tzdb_lookup);
    REQUIRE(parsed.is_ok());
    const json out = ck::module_to_json(*parsed);
    CHECK(out["id"] == "ecnr-2026-2-m3");
    CHECK(out["title"] == "Vascular Diseases");
    CHECK(out["cycle"] == "2026-2");
    CHECK(out["number"] == 3);
    CHECK(out["timezone"] == "Europe/Paris");
    CHECK(out["completion"]["min_sessions"] == 3);
    const json& am = out["days"][0]["sessions"][0];
    CHECK(out["days"][0]["date"] == "2026-11-23");
    CHECK(am["id"] == "d1-am");
    CHECK(am["start"] == "08:30");
    CHECK(am["end"] == "12:30");
    CHECK(am["cme_hours"] == 3.5);
    CHECK(am["starts_at"] == "2026-11-23T08:30:00+01:00");
    CHECK(am["ends_at"] == "2026-11-23T12:30:00+01:00");
    CHECK(am["window_opens_at"] == "2026-11-23T07:30:00+01:00");
    const json& evening = out["days"][1]["sessions"][1];
    CHECK(evening["end"] == "24:00");
    CHECK(evening["ends_at"] == "2026-11-25T00:00:00+01:00");

    SUBCASE("the every-session rule is null")
    {
        ck::ModuleEdition m = *parsed;
        m.completion.min_sessions = 0;
        CHECK(ck::module_to_json(m)["completion"]["min_sessions"].is_null());
    }
    SUBCASE("the output, without its derived keys, parses back to the same module")
    {
        json config = out;
        config.erase("id");
        for (auto& day : config["days"]) {
            for (auto& session : day["sessions"]) {
                for (const char* key : {"starts_at", "ends_at", "window_opens_at"}) {
                    session.erase(key);
                }
            }
        }
        const auto again = ck::parse_module(config, tzdb_lookup);
        REQUIRE_MESSAGE(again.is_ok(), again.status().message());
        CHECK(ck::module_to_json(*again) == out);
    }
}

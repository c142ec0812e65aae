#include "core/schedule.hpp"

#include <date/tz.h>
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

using ck::Instant;
using nlohmann::json;

namespace {

struct SessionTimes {
    const char* id;
    const char* start;
    const char* end;
};

// A module of consecutive days starting at `first_date`, each day holding `per_day`
// sessions (ids get a "d<N>-" prefix from the second day on).
ck::ModuleEdition make_module(const char* timezone, const char* first_date,
                              const std::vector<SessionTimes>& per_day, int days = 1,
                              int opens_before = 60, int late_after = 15)
{
    json j = {{"cycle", "2026-2"},
              {"number", 3},
              {"venue", "Lille"},
              {"timezone", timezone},
              {"checkin_opens_before_min", opens_before},
              {"late_after_min", late_after},
              {"days", json::array()}};
    const auto first = date::sys_days{
        date::year_month_day{date::year{std::stoi(std::string(first_date, 4))},
                             date::month{static_cast<unsigned>(std::stoi(first_date + 5))},
                             date::day{static_cast<unsigned>(std::stoi(first_date + 8))}}};
    for (int d = 0; d < days; ++d) {
        json sessions = json::array();
        for (const auto& s : per_day) {
            const std::string id = (d == 0 ? "" : "d" + std::to_string(d + 1) + "-") + s.id;
            sessions.push_back(
                {{"id", id}, {"label", id}, {"start", s.start}, {"end", s.end}, {"cme_hours", 3}});
        }
        j["days"].push_back(
            {{"date", date::format("%F", first + date::days{d})}, {"sessions", sessions}});
    }
    auto parsed = ck::parse_module(j, [](std::string_view n) { return date::locate_zone(n); });
    REQUIRE_MESSAGE(parsed.is_ok(), parsed.status().message());
    return *parsed;
}

Instant utc(const char* text)
{
    const auto t = ck::parse_rfc3339(text);
    REQUIRE_MESSAGE(t.has_value(), text);
    return *t;
}

std::string id_of(const ck::ResolvedSession* s) { return s ? s->spec->id : "(none)"; }

}  // namespace

TEST_CASE("sessions resolve to UTC across daylight-saving changes in Europe/Paris")
{
    struct Case {
        const char* date;
        const char* start;
        const char* end;
        const char* starts_at;  // UTC
        const char* ends_at;
    };
    const Case cases[] = {
        // Spring forward, 2026-03-29: 02:00 CET jumps to 03:00 CEST (01:00Z).
        {"2026-03-29", "01:00", "02:00", "2026-03-29T00:00:00Z", "2026-03-29T01:00:00Z"},
        {"2026-03-29", "01:30", "03:30", "2026-03-29T00:30:00Z", "2026-03-29T01:30:00Z"},
        {"2026-03-29", "02:00", "03:00", "2026-03-29T01:00:00Z", "2026-03-29T01:00:00Z"},
        {"2026-03-29", "02:30", "04:00", "2026-03-29T01:00:00Z", "2026-03-29T02:00:00Z"},
        {"2026-03-29", "03:00", "04:00", "2026-03-29T01:00:00Z", "2026-03-29T02:00:00Z"},
        {"2026-03-29", "08:30", "12:30", "2026-03-29T06:30:00Z", "2026-03-29T10:30:00Z"},
        {"2026-03-28", "20:00", "24:00", "2026-03-28T19:00:00Z", "2026-03-28T23:00:00Z"},
        {"2026-03-29", "20:00", "24:00", "2026-03-29T18:00:00Z", "2026-03-29T22:00:00Z"},
        // Fall back, 2026-10-25: 03:00 CEST returns to 02:00 CET (01:00Z); 02:00-03:00
        // happens twice and the earliest is used.
        {"2026-10-25", "01:00", "02:00", "2026-10-24T23:00:00Z", "2026-10-25T00:00:00Z"},
        {"2026-10-25", "01:30", "03:30", "2026-10-24T23:30:00Z", "2026-10-25T02:30:00Z"},
        {"2026-10-25", "02:00", "03:00", "2026-10-25T00:00:00Z", "2026-10-25T02:00:00Z"},
        {"2026-10-25", "02:30", "02:45", "2026-10-25T00:30:00Z", "2026-10-25T00:45:00Z"},
        {"2026-10-25", "03:00", "04:00", "2026-10-25T02:00:00Z", "2026-10-25T03:00:00Z"},
        {"2026-10-24", "12:00", "24:00", "2026-10-24T10:00:00Z", "2026-10-24T22:00:00Z"},
        {"2026-10-25", "00:00", "24:00", "2026-10-24T22:00:00Z", "2026-10-25T23:00:00Z"},
    };
    for (const auto& c : cases) {
        CAPTURE(c.date);
        CAPTURE(c.start);
        CAPTURE(c.end);
        const auto module = make_module("Europe/Paris", c.date, {{"s", c.start, c.end}});
        const ck::Schedule schedule(module);
        REQUIRE(schedule.sessions().size() == 1);
        const auto& s = schedule.sessions()[0];
        CHECK(ck::format_rfc3339_utc(s.start) == c.starts_at);
        CHECK(ck::format_rfc3339_utc(s.end) == c.ends_at);
        CHECK(s.window_opens == s.start - std::chrono::hours{1});
        CHECK(s.late_after == s.start + std::chrono::minutes{15});
    }
}

TEST_CASE("a window spanning the spring-forward gap is open across it")
{
    const auto module = make_module("Europe/Paris", "2026-03-29", {{"s", "02:30", "04:00"}});
    const ck::Schedule schedule(module);
    struct Case {
        const char* t;
        const char* open;
    };
    const Case cases[] = {
        {"2026-03-28T23:59:59Z", "(none)"}, {"2026-03-29T00:00:00Z", "s"},  // 01:00 CET
        {"2026-03-29T01:00:00Z", "s"},      {"2026-03-29T01:59:59Z", "s"},
        {"2026-03-29T02:00:00Z", "(none)"},
    };
    for (const auto& c : cases) {
        CAPTURE(c.t);
        CHECK(id_of(schedule.open_session(utc(c.t))) == c.open);
    }
}

TEST_CASE("open_session: windows are [window_opens, end), a started session wins")
{
    struct Case {
        const char* name;
        ck::ModuleEdition module;
        std::vector<std::pair<const char*, const char*>> at_expected;
    };
    const Case cases[] = {
        {"config example",
         make_module("Europe/Paris", "2026-11-23",
                     {{"am", "08:30", "12:30"}, {"pm", "14:00", "18:00"}}),
         {{"2026-11-23T06:29:59Z", "(none)"},
          {"2026-11-23T06:30:00Z", "am"},  // 07:30 local: window opens
          {"2026-11-23T07:30:00Z", "am"},
          {"2026-11-23T11:29:59Z", "am"},
          {"2026-11-23T11:30:00Z", "(none)"},  // 12:30 local: session ended
          {"2026-11-23T11:59:59Z", "(none)"},
          {"2026-11-23T12:00:00Z", "pm"},
          {"2026-11-23T16:59:59Z", "pm"},
          {"2026-11-23T17:00:00Z", "(none)"}}},
        {"demo: the whole day",
         make_module("Europe/Paris", "2026-11-23",
                     {{"am", "00:00", "12:00"}, {"pm", "12:00", "24:00"}}, 2),
         {{"2026-11-22T21:59:59Z", "(none)"},
          {"2026-11-22T22:00:00Z", "am"},  // 23:00 the day before
          {"2026-11-22T23:00:00Z", "am"},
          {"2026-11-23T10:00:00Z", "am"},  // 11:00: the afternoon window opens too
          {"2026-11-23T10:30:00Z", "am"},  // 11:30
          {"2026-11-23T10:59:59Z", "am"},
          {"2026-11-23T11:00:00Z", "pm"},  // 12:00
          {"2026-11-23T22:00:00Z", "pm"},  // 23:00: the next morning's window opens
          {"2026-11-23T22:59:59Z", "pm"},
          {"2026-11-23T23:00:00Z", "d2-am"},  // 24:00 = midnight of the next day
          {"2026-11-24T22:59:59Z", "d2-pm"},
          {"2026-11-24T23:00:00Z", "(none)"}}},
        {"overlapping windows before either starts: the earliest",
         make_module("Europe/Paris", "2026-11-23",
                     {{"a", "10:00", "10:30"}, {"b", "10:30", "12:00"}}),
         {{"2026-11-23T08:00:00Z", "a"},
          {"2026-11-23T08:30:00Z", "a"},  // both windows open, neither started
          {"2026-11-23T09:15:00Z", "a"},
          {"2026-11-23T09:30:00Z", "b"},
          {"2026-11-23T10:59:59Z", "b"}}},
        {"America/New_York: the local evening is the next UTC day",
         make_module("America/New_York", "2026-11-23", {{"eve", "20:00", "23:00"}}),
         {{"2026-11-23T23:59:59Z", "(none)"},
          {"2026-11-24T00:00:00Z", "eve"},
          {"2026-11-24T03:59:59Z", "eve"},
          {"2026-11-24T04:00:00Z", "(none)"}}},
        {"Pacific/Auckland: the local morning is the previous UTC day",
         make_module("Pacific/Auckland", "2026-11-23", {{"am", "08:30", "12:30"}}),
         {{"2026-11-22T18:29:59Z", "(none)"},
          {"2026-11-22T18:30:00Z", "am"},
          {"2026-11-22T23:29:59Z", "am"},
          {"2026-11-22T23:30:00Z", "(none)"},
          {"2026-11-23T08:00:00Z", "(none)"}}},
    };
    for (const auto& c : cases) {
        SUBCASE(c.name)
        {
            const ck::Schedule schedule(c.module);
            for (const auto& step : c.at_expected) {  // clang 14: no lambda captures of bindings
                const auto& t = step.first;
                CAPTURE(t);
                CHECK(id_of(schedule.open_session(utc(t))) == step.second);
            }
        }
    }
}

TEST_CASE("late flag: exactly late_after is on time, one second later is late")
{
    struct Case {
        int late_after_min;
        const char* t;
        bool late;
    };
    const Case cases[] = {
        {15, "2026-11-23T07:29:59Z", false}, {15, "2026-11-23T07:30:00Z", false},
        {15, "2026-11-23T07:45:00Z", false}, {15, "2026-11-23T07:45:01Z", true},
        {15, "2026-11-23T11:29:59Z", true},  {0, "2026-11-23T07:30:00Z", false},
        {0, "2026-11-23T07:30:01Z", true},   {720, "2026-11-23T11:29:59Z", false},
    };
    for (const auto& c : cases) {
        CAPTURE(c.late_after_min);
        CAPTURE(c.t);
        const auto module = make_module("Europe/Paris", "2026-11-23", {{"am", "08:30", "12:30"}}, 1,
                                        60, c.late_after_min);
        const ck::Schedule schedule(module);
        const auto* session = schedule.open_session(utc(c.t));
        REQUIRE(session != nullptr);
        CHECK(schedule.is_late(*session, utc(c.t)) == c.late);
    }
}

TEST_CASE("late flag: outside the window nothing is late (a correction made afterwards)")
{
    const auto module =
        make_module("Europe/Paris", "2026-11-23", {{"am", "08:30", "12:30"}}, 1, 60, 15);
    const ck::Schedule schedule(module);
    const ck::ResolvedSession& am = schedule.sessions().front();
    CHECK(ck::Schedule::is_late(am, utc("2026-11-23T11:29:59Z")));        // last second: late
    CHECK_FALSE(ck::Schedule::is_late(am, utc("2026-11-23T11:30:00Z")));  // the end: closed
    CHECK_FALSE(ck::Schedule::is_late(am, utc("2026-11-23T14:00:00Z")));  // that afternoon
    CHECK_FALSE(ck::Schedule::is_late(am, utc("2026-11-23T06:00:00Z")));  // before the window
}

TEST_CASE("next_session is the first whose window opens after t")
{
    const auto module = make_module("Europe/Paris", "2026-11-23",
                                    {{"am", "08:30", "12:30"}, {"pm", "14:00", "18:00"}}, 2);
    const ck::Schedule schedule(module);
    const std::pair<const char*, const char*> cases[] = {
        {"2026-01-01T00:00:00Z", "am"},     {"2026-11-23T06:29:59Z", "am"},
        {"2026-11-23T06:30:00Z", "pm"},  // am's window opens exactly now: not "next"
        {"2026-11-23T11:59:59Z", "pm"},     {"2026-11-23T12:00:00Z", "d2-am"},
        {"2026-11-24T12:00:00Z", "(none)"}, {"2027-01-01T00:00:00Z", "(none)"},
    };
    for (const auto& step : cases) {
        const char* t = step.first;
        CAPTURE(t);
        CHECK(id_of(schedule.next_session(utc(t))) == step.second);
    }
}

TEST_CASE("sessions in time order, find and module_end")
{
    const auto module = make_module("Europe/Paris", "2026-11-23",
                                    {{"am", "08:30", "12:30"}, {"pm", "14:00", "24:00"}}, 3);
    const ck::Schedule schedule(module);
    REQUIRE(schedule.sessions().size() == 6);
    for (std::size_t i = 1; i < schedule.sessions().size(); ++i) {
        CHECK(schedule.sessions()[i - 1].start < schedule.sessions()[i].start);
    }
    CHECK(schedule.sessions()[2].day_index == 1);
    CHECK(id_of(schedule.find("d2-pm")) == "d2-pm");
    CHECK(schedule.find("d2-pm")->day_index == 1);
    CHECK(schedule.find("nope") == nullptr);
    CHECK(ck::format_rfc3339_utc(schedule.module_end()) == "2026-11-25T23:00:00Z");
    CHECK(&schedule.module() == &module);
}

TEST_CASE("a module built by hand without a zone is read as UTC")
{
    ck::ModuleEdition module;
    module.days.push_back(
        {2026, 11, 23, {{"pm", "PM", 14 * 60, 18 * 60, 3}, {"am", "AM", 480, 720, 3}}});
    const ck::Schedule schedule(module);
    REQUIRE(schedule.sessions().size() == 2);
    CHECK(id_of(&schedule.sessions()[0]) == "am");  // sorted by start
    CHECK(ck::format_rfc3339_utc(schedule.sessions()[1].start) == "2026-11-23T14:00:00Z");
    CHECK(id_of(schedule.open_session(utc("2026-11-23T13:00:00Z"))) == "pm");
}

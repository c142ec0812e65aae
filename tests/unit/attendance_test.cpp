#include "core/attendance.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <set>
#include <string>
#include <vector>

namespace {

// A module whose day d holds one session "d<d>-<i>" per entry of days[d] (its CME hours).
ck::ModuleEdition module_with_hours(const std::vector<std::vector<double>>& days,
                                    int min_sessions = 0)
{
    ck::ModuleEdition m;
    m.cycle = "2026-2";
    m.number = 3;
    m.completion.min_sessions = min_sessions;
    for (std::size_t d = 0; d < days.size(); ++d) {
        ck::DaySpec day{2026, 11, static_cast<unsigned>(23 + d), {}};
        for (std::size_t i = 0; i < days[d].size(); ++i) {
            const int start = 8 * 60 + static_cast<int>(i) * 120;
            day.sessions.push_back({"d" + std::to_string(d + 1) + "-" + std::to_string(i + 1),
                                    "session", start, start + 120, days[d][i]});
        }
        m.days.push_back(day);
    }
    return m;
}

}  // namespace

TEST_CASE("EACCME credits: 3 per session, 6 per day, steps of 0.5 rounded down")
{
    struct Case {
        const char* name;
        std::vector<std::vector<double>> days;
        std::set<std::string> attended;
        double credits;
    };
    const Case cases[] = {
        {"3.5h session gives 3", {{3.5}}, {"d1-1"}, 3},
        {"2.75h session gives 2.5", {{2.75}}, {"d1-1"}, 2.5},
        {"2.5h session gives 2.5", {{2.5}}, {"d1-1"}, 2.5},
        {"0.4h session gives 0", {{0.4}}, {"d1-1"}, 0},
        {"0h session gives 0", {{0}}, {"d1-1"}, 0},
        {"12h session gives 3", {{12}}, {"d1-1"}, 3},
        {"three 3h sessions in a day give 6", {{3, 3, 3}}, {"d1-1", "d1-2", "d1-3"}, 6},
        {"1.5 + 1.5 + 1.5 + 2 in a day gives 6",
         {{1.5, 1.5, 1.5, 2}},
         {"d1-1", "d1-2", "d1-3", "d1-4"},
         6},
        {"two 2.75h sessions give 5", {{2.75, 2.75}}, {"d1-1", "d1-2"}, 5},
        {"days are capped separately and summed",
         {{3.5, 3.5, 3}, {2.75}, {1, 1}},
         {"d1-1", "d1-2", "d1-3", "d2-1", "d3-1", "d3-2"},
         6 + 2.5 + 2},
        {"five full ECNR days give 30",
         {{3.5, 3.5}, {3.5, 3.5}, {3.5, 3.5}, {3.5, 3.5}, {3.5, 3.5}},
         {"d1-1", "d1-2", "d2-1", "d2-2", "d3-1", "d3-2", "d4-1", "d4-2", "d5-1", "d5-2"},
         30},
        {"only attended sessions count", {{3.5, 3.5}, {3}}, {"d1-2"}, 3},
        {"unknown session ids are ignored", {{3.5}}, {"d9-9", "D1-1", ""}, 0},
        {"nothing attended", {{3.5, 3.5}}, {}, 0},
    };
    for (const auto& c : cases) {
        CAPTURE(c.name);
        CHECK(ck::cme_credits(module_with_hours(c.days), c.attended) == c.credits);
    }
}

TEST_CASE("completion: every session by default, or at least min_sessions")
{
    struct Case {
        const char* name;
        int min_sessions;
        std::set<std::string> attended;
        int sessions_attended;
        bool complete;
    };
    // Two days of two sessions: four in all.
    const Case cases[] = {
        {"default, all attended", 0, {"d1-1", "d1-2", "d2-1", "d2-2"}, 4, true},
        {"default, one missing", 0, {"d1-1", "d1-2", "d2-1"}, 3, false},
        {"default, unknown ids do not fill the gap", 0, {"d1-1", "d1-2", "d2-1", "x"}, 3, false},
        {"default, nothing", 0, {}, 0, false},
        {"min 3, three attended", 3, {"d1-1", "d2-1", "d2-2"}, 3, true},
        {"min 3, all attended", 3, {"d1-1", "d1-2", "d2-1", "d2-2"}, 4, true},
        {"min 3, two attended", 3, {"d1-1", "d2-2"}, 2, false},
        {"min 1, one attended", 1, {"d2-2"}, 1, true},
        {"min 1, only unknown ids", 1, {"d3-1"}, 0, false},
    };
    for (const auto& c : cases) {
        CAPTURE(c.name);
        const auto module = module_with_hours({{3.5, 3.5}, {3, 2.75}}, c.min_sessions);
        const ck::CompletionResult r = ck::evaluate_completion(module, c.attended);
        CHECK(r.sessions_total == 4);
        CHECK(r.sessions_attended == c.sessions_attended);
        CHECK(r.attendance_complete == c.complete);
        CHECK(r.cme_credits == ck::cme_credits(module, c.attended));
    }
}

TEST_CASE("completion carries the credits")
{
    const auto module = module_with_hours({{3.5, 3.5}, {3, 2.75}});
    const auto r = ck::evaluate_completion(module, {"d1-1", "d1-2", "d2-1", "d2-2"});
    CHECK(r.attendance_complete);
    CHECK(r.cme_credits == 6 + 5.5);
}

namespace {

ck::AttendanceEvent checkin(const std::string& id, const std::string& session, int minute)
{
    return {ck::AttendanceEvent::Kind::checkin,
            id,
            session,
            {},
            ck::Instant{std::chrono::minutes(minute)}};
}

ck::AttendanceEvent voiding(const std::string& checkin_id, int minute)
{
    return {ck::AttendanceEvent::Kind::voiding,
            "v-" + checkin_id,
            {},
            checkin_id,
            ck::Instant{std::chrono::minutes(minute)}};
}

}  // namespace

TEST_CASE("attendance from the union of every device's events")
{
    const ck::ModuleEdition m = module_with_hours({{3, 3}, {3, 3}});
    SUBCASE("two devices' check-ins add up; one session checked in twice counts once")
    {
        const auto a = ck::attendance_from_events(
            m, {checkin("a1", "d1-1", 10), checkin("b1", "d1-1", 11), checkin("b2", "d1-2", 300),
                checkin("a2", "d2-1", 1500), checkin("a3", "d2-2", 1800)});
        CHECK(a.attended_session_ids == std::set<std::string>{"d1-1", "d1-2", "d2-1", "d2-2"});
        CHECK(a.result.attendance_complete);
        CHECK(a.result.cme_credits == 12);
        REQUIRE(a.completed_at);
        CHECK(*a.completed_at == ck::Instant{std::chrono::minutes(1800)});
    }
    SUBCASE("a void from another device removes the check-in; completed_at follows")
    {
        const auto a = ck::attendance_from_events(
            m, {checkin("a1", "d1-1", 10), checkin("a2", "d1-2", 300), checkin("a3", "d2-1", 1500),
                checkin("a4", "d2-2", 1600), voiding("a4", 1601), checkin("b4", "d2-2", 1700)});
        CHECK(a.result.sessions_attended == 4);
        REQUIRE(a.completed_at);
        CHECK(*a.completed_at == ck::Instant{std::chrono::minutes(1700)});
    }
    SUBCASE("the order the events arrive in does not matter")
    {
        std::vector<ck::AttendanceEvent> events{
            checkin("a1", "d1-1", 10), checkin("a2", "d1-2", 300), checkin("a3", "d2-1", 1500),
            voiding("a3", 1501), checkin("a4", "d2-2", 1600)};
        const auto forward = ck::attendance_from_events(m, events);
        std::reverse(events.begin(), events.end());
        const auto backward = ck::attendance_from_events(m, events);
        CHECK(forward.attended_session_ids == backward.attended_session_ids);
        CHECK_FALSE(forward.completed_at);
        CHECK_FALSE(backward.completed_at);
        CHECK(forward.result.sessions_attended == 3);
        CHECK(forward.result.cme_credits == 9);
    }
    SUBCASE("sessions the module does not have count for nothing")
    {
        const auto a = ck::attendance_from_events(m, {checkin("x", "d9-1", 10)});
        CHECK(a.result.sessions_attended == 0);
        CHECK_FALSE(a.completed_at);
    }
    SUBCASE("with min_sessions the rule holds at the n-th session")
    {
        const ck::ModuleEdition three = module_with_hours({{3, 3}, {3, 3}}, 3);
        const auto a = ck::attendance_from_events(
            three, {checkin("a1", "d1-1", 10), checkin("a2", "d1-2", 300),
                    checkin("a3", "d2-1", 1500), checkin("a4", "d2-2", 1600)});
        REQUIRE(a.completed_at);
        CHECK(*a.completed_at == ck::Instant{std::chrono::minutes(1500)});
    }
}

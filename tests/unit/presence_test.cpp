#include "core/presence.hpp"

#include <date/tz.h>
#include <doctest/doctest.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "core/attendance.hpp"

namespace {

using ck::Instant;

// One day, 2026-11-23, UTC: d1-am 08:30-12:30 and d1-pm 14:00-18:00 (3.5 CME hours each),
// d1-eve 20:00-24:00 (2 hours); day two: d2-am 08:30-12:30 (3.5).
ck::ModuleEdition presence_module(bool count_missing_exit = true, int pct = 80)
{
    ck::ModuleEdition m;
    m.cycle = "2026-2";
    m.number = 3;
    m.attendance.mode = ck::AttendanceMode::presence;
    m.attendance.count_missing_exit = count_missing_exit;
    m.completion.min_presence_pct = pct;
    m.days.push_back({2026,
                      11,
                      23,
                      {{"d1-am", "morning", 8 * 60 + 30, 12 * 60 + 30, 3.5},
                       {"d1-pm", "afternoon", 14 * 60, 18 * 60, 3.5},
                       {"d1-eve", "evening", 20 * 60, 24 * 60, 2}}});
    m.days.push_back({2026, 11, 24, {{"d2-am", "morning", 8 * 60 + 30, 12 * 60 + 30, 3.5}}});
    return m;
}

// "HH:MM" or "HH:MM:SS" on 2026-11-23 + `day`, UTC.
Instant at(const std::string& hhmm, int day = 0)
{
    const int h = std::stoi(hhmm.substr(0, 2));
    const int m = std::stoi(hhmm.substr(3, 2));
    const int s = hhmm.size() > 5 ? std::stoi(hhmm.substr(6, 2)) : 0;
    return ck::resolve_local_time(2026, 11, static_cast<unsigned>(23 + day), h * 60 + m, nullptr) +
           std::chrono::seconds(s);
}

struct Scan {
    const char* id;
    const char* time;  // on the session's day; "+HH:MM" the day after
    bool exit = false;
    const char* entry = "";
    bool manual = false;
};

std::vector<ck::PresenceScan> scans_of(const std::vector<Scan>& list)
{
    std::vector<ck::PresenceScan> out;
    for (const Scan& s : list) {
        std::string t = s.time;
        const int day = t[0] == '+' ? 1 : 0;
        if (day != 0) t = t.substr(1);
        out.push_back({s.id, at(t, day), s.exit, s.entry, s.manual});
    }
    return out;
}

const ck::ResolvedSession& session_of(const ck::Schedule& schedule, const char* id)
{
    const ck::ResolvedSession* s = schedule.find(id);
    REQUIRE(s != nullptr);
    return *s;
}

}  // namespace

TEST_CASE("presence credits: 0.5 per 30 minutes, at most cme_hours and 3")
{
    struct Case {
        int minutes;
        double cme_hours;
        double credits;
    };
    const Case cases[] = {
        {0, 3.5, 0},      {29, 3.5, 0},  {30, 3.5, 0.5}, {59, 3.5, 0.5}, {60, 3.5, 1},
        {150, 3.5, 2.5},  {240, 3.5, 3}, {600, 3.5, 3},  {240, 2, 2},    {90, 1.25, 1},
        {240, 2.75, 2.5}, {-5, 3, 0},    {45, 0, 0},
    };
    for (const Case& c : cases) {
        CAPTURE(c.minutes);
        CAPTURE(c.cme_hours);
        CHECK(ck::presence_credits(c.minutes, c.cme_hours) == c.credits);
    }
}

TEST_CASE("presence in one session: the table of SPEC section 10")
{
    struct Case {
        const char* name;
        const char* session;
        std::vector<Scan> scans;
        int minutes;
        bool attended;
        double credits;
        std::size_t intervals;
        bool inside = false;
        bool no_exit = false;
        int out_of_order = 0;
        bool count_missing_exit = true;
    };
    const Case cases[] = {
        {"in before the start, out after the end: the whole session",
         "d1-am",
         {{"e1", "08:10"}, {"x1", "12:45", true, "e1"}},
         240,
         true,
         3,
         1},
        {"two stays add up; 150 of 240 minutes is under 80%",
         "d1-am",
         {{"e1", "09:00"},
          {"x1", "10:00", true, "e1"},
          {"e2", "10:30"},
          {"x2", "12:00", true, "e2"}},
         150,
         false,
         2.5,
         2},
        {"exactly 80%: 192 of 240 minutes attends",
         "d1-am",
         {{"e1", "08:30"}, {"x1", "11:42", true, "e1"}},
         192,
         true,
         3,
         1},
        {"191 minutes does not",
         "d1-am",
         {{"e1", "08:30"}, {"x1", "11:41", true, "e1"}},
         191,
         false,
         3,
         1},
        {"seconds count: 29 minutes 59 seconds is 29 minutes",
         "d1-am",
         {{"e1", "09:00:00"}, {"x1", "09:29:59", true, "e1"}},
         29,
         false,
         0,
         1},
        {"no exit: until the session's end, flagged",
         "d1-am",
         {{"e1", "09:00"}},
         210,
         true,
         3,
         1,
         true,
         true},
        {"no exit not counted when count_missing_exit is false",
         "d1-am",
         {{"e1", "09:00"}},
         0,
         false,
         0,
         1,
         true,
         true,
         0,
         false},
        {"no exit after a whole stay: the stay counts, the rest is not counted",
         "d1-am",
         {{"e1", "08:30"}, {"x1", "10:30", true, "e1"}, {"e2", "11:00"}},
         120,
         false,
         2,
         2,
         true,
         true,
         0,
         false},
        {"a double scan on another kiosk within the grace is left out",
         "d1-am",
         {{"e1", "08:30:00"}, {"e2", "08:31:30"}, {"x1", "12:00", true, "e1"}},
         210,
         true,
         3,
         1},
        {"a scan just after the grace leaves",
         "d1-am",
         {{"e1", "08:30:00"}, {"e2", "08:32:00"}},
         2,
         false,
         0,
         1},
        {"staff's exit by hand is never a double scan",
         "d1-am",
         {{"e1", "08:30"}, {"x1", "08:31", true, "e1", true}},
         1,
         false,
         0,
         1},
        {"in by one door, out by the other: one stay",
         "d1-am",
         {{"a-in", "09:00"}, {"b-in", "11:00"}},
         120,
         false,
         2,
         1},
        {"two doors, each kiosk wrong about the other: the scans toggle in time order",
         "d1-am",
         {{"a-in", "09:00"},
          {"b-in", "10:00"},
          {"a-out", "11:00", true, "a-in"},
          {"b-out", "12:00", true, "b-in"}},
         120,
         false,
         2,
         2},
        {"an exit timed before its own entry (clock set back) counts nothing",
         "d1-am",
         {{"e1", "10:30"}, {"x1", "09:45", true, "e1"}},
         0,
         false,
         0,
         0,
         false,
         false,
         1},
        {"the out-of-order pair goes; the stays around it stay",
         "d1-am",
         {{"e0", "08:30"},
          {"x0", "09:00", true, "e0"},
          {"e1", "10:30"},
          {"x1", "09:45", true, "e1"},
          {"e2", "11:00"},
          {"x2", "12:30", true, "e2"}},
         120,
         false,
         2,
         2,
         false,
         false,
         1},
        {"scans given in any order",
         "d1-am",
         {{"x1", "12:00", true, "e1"}, {"e1", "09:00"}},
         180,
         false,
         3,
         1},
        {"before the start only: nothing",
         "d1-am",
         {{"e1", "07:40"}, {"x1", "08:20", true, "e1"}},
         0,
         false,
         0,
         1},
        {"an evening to midnight; out after midnight is clipped",
         "d1-eve",
         {{"e1", "23:00"}, {"x1", "+00:30", true, "e1"}},
         60,
         false,
         1,
         1},
        {"an evening, no exit: until midnight",
         "d1-eve",
         {{"e1", "20:00"}},
         240,
         true,
         2,
         1,
         true,
         true},
    };
    for (const Case& c : cases) {
        CAPTURE(c.name);
        const ck::ModuleEdition m = presence_module(c.count_missing_exit);
        const ck::Schedule schedule(m);
        const auto p = ck::session_presence(m, session_of(schedule, c.session), scans_of(c.scans));
        CHECK(p.minutes_present == c.minutes);
        CHECK(p.attended == c.attended);
        CHECK(p.credits == c.credits);
        CHECK(p.intervals.size() == c.intervals);
        CHECK(p.inside == c.inside);
        CHECK(p.no_exit == c.no_exit);
        CHECK(p.out_of_order == c.out_of_order);
    }
}

TEST_CASE("presence: the interval's times, clipped and as scanned")
{
    const ck::ModuleEdition m = presence_module();
    const ck::Schedule schedule(m);
    const auto p = ck::session_presence(m, session_of(schedule, "d1-am"),
                                        scans_of({{"e1", "08:10"}, {"x1", "12:45", true, "e1"}}));
    REQUIRE(p.intervals.size() == 1);
    CHECK(p.intervals[0].entered == at("08:10"));
    CHECK(p.intervals[0].left == at("12:45"));
    CHECK(p.intervals[0].from == at("08:30"));
    CHECK(p.intervals[0].to == at("12:30"));
    CHECK(p.intervals[0].entry_id == "e1");
    CHECK(p.intervals[0].exit_id == "x1");
    CHECK(p.minutes_total == 240);
    // 80% of 240 is 192 minutes: reached at 08:30 + 192 min.
    CHECK(p.attended_at == at("11:42"));
}

TEST_CASE("presence live: a stay without exit counts until now, not yet no_exit")
{
    const ck::ModuleEdition m = presence_module();
    const ck::Schedule schedule(m);
    const auto& am = session_of(schedule, "d1-am");
    const auto live = ck::session_presence(m, am, scans_of({{"e1", "08:40"}}), at("09:40"));
    CHECK(live.minutes_present == 60);
    CHECK(live.inside);
    CHECK_FALSE(live.no_exit);
    CHECK(live.credits == 1);
    const auto after = ck::session_presence(m, am, scans_of({{"e1", "08:40"}}), at("13:00"));
    CHECK(after.minutes_present == 230);
    CHECK(after.no_exit);
    const auto before = ck::session_presence(m, am, scans_of({{"e1", "08:00"}}), at("08:20"));
    CHECK(before.minutes_present == 0);
    CHECK(before.inside);
}

TEST_CASE("presence across daylight saving: a session on the night the clocks go back")
{
    ck::ModuleEdition m = presence_module();
    m.zone = date::locate_zone("Europe/Paris");
    m.days = {{2026, 10, 25, {{"d1-am", "night", 0, 12 * 60, 12}}}};
    const ck::Schedule schedule(m);
    const auto& s = session_of(schedule, "d1-am");
    const Instant start = ck::resolve_local_time(2026, 10, 25, 0, m.zone);
    const Instant end = ck::resolve_local_time(2026, 10, 25, 12 * 60, m.zone);
    const auto p = ck::session_presence(m, s, {{"e1", start, false, "", false}});
    CHECK(p.minutes_total == 13 * 60);  // 00:00 to 12:00 holds 13 hours that night
    CHECK(p.minutes_present == 13 * 60);
    CHECK(p.no_exit);
    const auto q = ck::session_presence(
        m, s, {{"e1", start, false, "", false}, {"x1", end - std::chrono::hours(3), true, "e1"}});
    CHECK(q.minutes_present == 10 * 60);
    CHECK_FALSE(q.attended);  // 600 of 780 minutes is 76.9%
}

TEST_CASE("presence for the module: attended sessions, credits capped per day, completed_at")
{
    ck::ModuleEdition m = presence_module();
    std::map<std::string, std::vector<ck::PresenceScan>> scans;
    scans["d1-am"] = scans_of({{"a1", "08:30"}, {"a2", "12:30", true, "a1"}});
    scans["d1-pm"] = scans_of({{"p1", "14:00"}, {"p2", "17:30", true, "p1"}});
    scans["d1-eve"] = scans_of({{"v1", "20:00"}, {"v2", "+00:00", true, "v1"}});
    scans["d2-am"] = scans_of({{"n1", "+08:30"}, {"n2", "+09:30", true, "n1"}});
    const auto r = ck::module_presence(m, scans);
    CHECK(r.attended_session_ids == std::set<std::string>{"d1-am", "d1-pm", "d1-eve"});
    CHECK(r.result.sessions_attended == 3);
    CHECK(r.result.sessions_total == 4);
    CHECK_FALSE(r.result.attendance_complete);
    // Day 1: 3 + 3 + 2 = 8, capped at 6; day 2: 60 minutes, 1.
    CHECK(r.result.cme_credits == 7);
    CHECK_FALSE(r.completed_at);

    m.completion.min_sessions = 2;
    const auto two = ck::module_presence(m, scans);
    CHECK(two.result.attendance_complete);
    // d1-am reached 192 minutes at 11:42, d1-pm at 17:12: the second completes the rule.
    CHECK(two.completed_at == at("17:12"));
}

TEST_CASE("presence from events: voids, exits of voided entries, and session mode unchanged")
{
    using Kind = ck::AttendanceEvent::Kind;
    ck::ModuleEdition m = presence_module();
    m.completion.min_sessions = 1;
    const std::vector<ck::AttendanceEvent> events = {
        {Kind::checkin, "e1", "d1-am", "", at("08:30")},
        {Kind::checkout, "x1", "d1-am", "e1", at("09:00")},  // a mistaken exit...
        {Kind::voiding, "v1", "", "x1", at("09:05")},        // ...voided: still inside
        {Kind::checkout, "x2", "d1-am", "e1", at("12:00")},
        {Kind::checkin, "e9", "d1-pm", "", at("14:00")},  // the wrong badge...
        {Kind::checkout, "x9", "d1-pm", "e9", at("17:00")},
        {Kind::voiding, "v9", "", "e9", at("17:05")},  // ...voided, with its exit
    };
    const auto a = ck::attendance_from_events(m, events);
    REQUIRE(a.presence.count("d1-am") == 1);
    CHECK(a.presence.at("d1-am").minutes_present == 210);
    CHECK(a.presence.count("d1-pm") == 0);
    CHECK(a.attended_session_ids == std::set<std::string>{"d1-am"});
    CHECK(a.result.attendance_complete);
    CHECK(a.completed_at == at("11:42"));
    CHECK(a.result.cme_credits == 3);

    // The same events in session mode: check-ins attend, check-outs are not part of it.
    m.attendance.mode = ck::AttendanceMode::session;
    const auto s = ck::attendance_from_events(m, events);
    CHECK(s.attended_session_ids == std::set<std::string>{"d1-am"});
    CHECK(s.presence.empty());
}

TEST_CASE("presence properties: credits within the caps, more time never fewer minutes")
{
    // A small deterministic generator (no clock, no global state): the same cases each run.
    std::uint64_t state = 0x9e3779b97f4a7c15ULL;
    const auto next = [&state](int bound) {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        return static_cast<int>(state % static_cast<std::uint64_t>(bound));
    };
    const ck::ModuleEdition m = presence_module();
    const ck::Schedule schedule(m);
    for (int round = 0; round < 500; ++round) {
        CAPTURE(round);
        // Disjoint stays, each a manual entry and exit, around d1-am (07:30 to 13:30).
        std::vector<ck::PresenceScan> scans;
        int minute = 7 * 60 + 30 + next(30);
        const int stays = next(5);
        std::map<std::string, std::vector<ck::PresenceScan>> by_session;
        for (int i = 0; i < stays && minute < 13 * 60 + 30; ++i) {
            const int length = 1 + next(120);
            const std::string n = std::to_string(i);
            scans.push_back({"e" + n, at("00:00") + std::chrono::minutes(minute), false, "", true});
            scans.push_back({"x" + n, at("00:00") + std::chrono::minutes(minute + length), true,
                             "e" + n, true});
            minute += length + 1 + next(60);
        }
        const auto& am = session_of(schedule, "d1-am");
        const auto before = ck::session_presence(m, am, scans);
        CHECK(before.credits <= 3);
        CHECK(before.credits <= am.spec->cme_hours);
        CHECK(before.minutes_present <= before.minutes_total);
        // One more stay after the others never lowers the minutes.
        const int length = 1 + next(90);
        auto more = scans;
        more.push_back({"e-more", at("00:00") + std::chrono::minutes(minute), false, "", true});
        more.push_back(
            {"x-more", at("00:00") + std::chrono::minutes(minute + length), true, "e-more", true});
        const auto after = ck::session_presence(m, am, more);
        CHECK(after.minutes_present >= before.minutes_present);
        CHECK(after.credits >= before.credits);
        // The same stays in the afternoon (5.5 hours later, the same place in d1-pm) and
        // the evening: the day's credits are the sessions' sum, at most 6.
        const auto shifted = [&more](int minutes) {
            auto copy = more;
            for (auto& scan : copy) scan.at += std::chrono::minutes(minutes);
            return copy;
        };
        by_session["d1-am"] = more;
        by_session["d1-pm"] = shifted(330);
        by_session["d1-eve"] = shifted(690);
        const auto module = ck::module_presence(m, by_session);
        double sum = 0;
        for (const auto& [id, session] : module.sessions) sum += session.credits;
        CHECK(module.sessions.at("d1-pm").minutes_present == after.minutes_present);
        CHECK(module.result.cme_credits == std::min(sum, 6.0));
        CHECK(module.result.cme_credits <= 6);
    }
}

TEST_CASE("a device's next scan: entry, exit or double scan")
{
    const ck::ModuleEdition m = presence_module();
    const ck::Schedule schedule(m);
    const auto& am = session_of(schedule, "d1-am");
    using Kind = ck::ScanDecision::Kind;
    struct Case {
        const char* name;
        std::vector<Scan> scans;
        const char* now;
        bool manual;
        Kind kind;
        const char* entry_id;
    };
    const Case cases[] = {
        {"first scan enters", {}, "08:20", false, Kind::entry, ""},
        {"inside: leaves, closing the entry", {{"e1", "08:20"}}, "10:00", false, Kind::exit, "e1"},
        {"outside again: enters",
         {{"e1", "08:20"}, {"x1", "10:00", true, "e1"}},
         "10:30",
         false,
         Kind::entry,
         ""},
        {"within the grace: a double scan",
         {{"e1", "08:20:00"}},
         "08:21:59",
         false,
         Kind::double_scan,
         ""},
        {"at the grace: leaves", {{"e1", "08:20:00"}}, "08:22:00", false, Kind::exit, "e1"},
        {"a double scan after an exit too",
         {{"e1", "08:20"}, {"x1", "10:00", true, "e1"}},
         "10:01",
         false,
         Kind::double_scan,
         ""},
        {"staff's exit within the grace is an exit",
         {{"e1", "08:20:00"}},
         "08:21:00",
         true,
         Kind::exit,
         "e1"},
        {"the second entry is the one closed",
         {{"e1", "08:20"}, {"x1", "09:00", true, "e1"}, {"e2", "09:30"}},
         "11:00",
         false,
         Kind::exit,
         "e2"},
    };
    for (const Case& c : cases) {
        CAPTURE(c.name);
        const auto d = ck::decide_scan(m, am, scans_of(c.scans), at(c.now), c.manual);
        CHECK(d.kind == c.kind);
        CHECK(d.entry_id == c.entry_id);
    }
}

TEST_CASE("leaving after the end: the session just ended, for a while")
{
    ck::ModuleEdition m = presence_module();
    m.checkin_opens_before_min = 45;
    const ck::Schedule schedule(m);
    const auto leave = [&](const char* t, int day = 0) {
        const ck::ResolvedSession* s = ck::session_to_leave(schedule, at(t, day));
        return s == nullptr ? std::string() : s->spec->id;
    };
    CHECK(leave("10:00") == "");       // d1-am is open: not a leaving time
    CHECK(leave("12:30") == "d1-am");  // its end
    CHECK(leave("13:14") == "d1-am");  // within 45 minutes
    CHECK(leave("13:15") == "");       // d1-pm's window opens (14:00 - 45 min)
    CHECK(leave("18:10") == "d1-pm");
    CHECK(leave("18:45") == "");           // 45 minutes after the end
    CHECK(leave("08:00") == "");           // before anything ended
    CHECK(leave("00:20", 1) == "d1-eve");  // after midnight, the evening's end
    m.checkin_opens_before_min = 240;
    const ck::Schedule wide(m);
    CHECK(ck::session_to_leave(wide, at("00:59", 1)) != nullptr);  // at most 60 minutes
    CHECK(ck::session_to_leave(wide, at("01:00", 1)) == nullptr);
    // With d1-pm's window open since 10:00 there is no leaving time, but d1-am has just
    // ended: someone still inside it leaves it (session_just_ended) until d1-pm begins.
    const auto ended = [&](const char* t) {
        const ck::ResolvedSession* s = ck::session_just_ended(wide, at(t));
        return s == nullptr ? std::string() : s->spec->id;
    };
    CHECK(ck::session_to_leave(wide, at("12:40")) == nullptr);
    CHECK(ended("12:29") == "");
    CHECK(ended("12:30") == "d1-am");
    CHECK(ended("13:29") == "d1-am");
    CHECK(ended("13:30") == "");  // 60 minutes after its end
}

// Presence mode on a real device (SPEC section 10): the check-in service toggles entries and
// exits in the store's write, double scans, exits by hand, a session just ended, held scans
// filed later, the events the registry gets, and the answers of the HTTP routes.
#include <doctest/doctest.h>

#include <algorithm>

#include "app/checkin_service.hpp"
#include "app/clock_correction.hpp"
#include "app/reports.hpp"
#include "test_device.hpp"

namespace {

using ck::CheckinResult;
using ck::test::at;
using ck::test::TestDevice;
using ck::test::TestDeviceOptions;
using namespace std::chrono_literals;

TestDeviceOptions presence(const char* now, nlohmann::json attendance = nlohmann::json::object())
{
    TestDeviceOptions options;
    options.now = now;
    attendance["mode"] = "presence";
    options.config = {{"module", {{"attendance", attendance}}}};
    return options;
}

// The event log's types and their check-in ids, in order.
std::vector<std::string> event_types(ck::Store& store)
{
    std::vector<std::string> types;
    for (const auto& e : store.events_from(1, 1000)) types.push_back(e.body.value("type", ""));
    return types;
}

}  // namespace

TEST_CASE("presence: a badge enters, leaves, enters again; a repeat within the grace is nothing")
{
    TestDevice t(presence("2026-11-23T08:25:00+01:00"));
    const std::string badge = t.credential("A001");

    auto in = t.checkins().badge(badge);
    REQUIRE_MESSAGE(in.is_ok(), in.status().message());
    CHECK(in->kind == CheckinResult::Kind::created);
    CHECK_FALSE(in->record.exit());
    REQUIRE(in->presence.has_value());
    CHECK(in->presence->inside);
    CHECK(in->presence->minutes_present == 0);  // before the 08:30 start

    t.time().pass(60s);
    auto again = t.checkins().badge(badge);
    REQUIRE(again.is_ok());
    CHECK(again->kind == CheckinResult::Kind::already);
    CHECK(again->record.id == in->record.id);

    t.time().set_wall(at("2026-11-23T10:30:00+01:00"));
    auto out = t.checkins().badge(badge);
    REQUIRE(out.is_ok());
    CHECK(out->kind == CheckinResult::Kind::created);
    CHECK(out->record.exit());
    CHECK(out->record.entry_id == in->record.id);
    REQUIRE(out->presence.has_value());
    CHECK(out->presence->minutes_present == 120);
    CHECK_FALSE(out->presence->inside);
    REQUIRE(out->closed_entry.has_value());
    CHECK(out->closed_entry->id == in->record.id);

    t.time().set_wall(at("2026-11-23T11:00:00+01:00"));
    auto back = t.checkins().badge(badge);
    REQUIRE(back.is_ok());
    CHECK_FALSE(back->record.exit());
    CHECK(back->presence->minutes_present == 120);  // 11:00 now: the new stay has just begun

    // The log: entry, exit (naming its entry), entry.
    CHECK(event_types(t.store()) == std::vector<std::string>{"checkin", "checkout", "checkin"});
    const auto events = t.store().events_from(1, 10);
    CHECK(events[1].body["checkin_id"] == in->record.id);
    CHECK(events[1].body["session_id"] == "d1-am");
    CHECK_FALSE(events[1].body.contains("late"));
}

TEST_CASE("presence: staff check in (enter only) and record exits by hand, audited")
{
    TestDevice t(presence(ck::test::kInMorning));
    auto in = t.checkins().manual("A002", nullptr, "maria");
    REQUIRE(in.is_ok());
    CHECK_FALSE(in->record.exit());
    // A manual check-in of someone inside is "already", not an exit.
    t.time().pass(10min);
    auto again = t.checkins().manual("A002", nullptr, "maria");
    REQUIRE(again.is_ok());
    CHECK(again->kind == CheckinResult::Kind::already);

    SUBCASE("an exit at a time staff give, within the grace or not")
    {
        t.time().set_wall(at("2026-11-23T16:00:00+01:00"));  // d1-pm now
        const ck::ResolvedSession* am = t.device().schedule->find("d1-am");
        auto out = t.checkins().exit_by_hand("A002", am, at("2026-11-23T11:45:00+01:00"), "maria",
                                             "forgot to scan out");
        REQUIRE_MESSAGE(out.is_ok(), out.status().message());
        CHECK(out->record.exit());
        CHECK(out->record.source == "manual");
        CHECK(out->presence->minutes_present == 185);  // 08:40 to 11:45
        const auto audit = t.store().audit_entries(5);
        REQUIRE_FALSE(audit.empty());
        CHECK(audit.front().body["action"] == "manual_checkout");
        CHECK(audit.front().body["details"]["reason"] == "forgot to scan out");
        // Not inside any more: a second exit is refused.
        auto twice =
            t.checkins().exit_by_hand("A002", am, at("2026-11-23T12:00:00+01:00"), "maria");
        REQUIRE_FALSE(twice.is_ok());
        CHECK(twice.status().code() == "not_inside");
    }
    SUBCASE("refused: before the entry, in the future, outside the session, someone outside")
    {
        const ck::ResolvedSession* am = t.device().schedule->find("d1-am");
        auto before = t.checkins().exit_by_hand("A002", am, at("2026-11-23T08:35:00+01:00"), "m");
        CHECK(before.status().code() == "not_inside");
        auto future = t.checkins().exit_by_hand("A002", am, at("2026-11-23T09:30:00+01:00"), "m");
        CHECK(future.status().code() == "malformed_request");
        auto early = t.checkins().exit_by_hand("A002", am, at("2026-11-23T06:00:00+01:00"), "m");
        CHECK(early.status().code() == "malformed_request");
        auto nobody = t.checkins().exit_by_hand("A003", nullptr, std::nullopt, "m");
        CHECK(nobody.status().code() == "not_inside");
        auto unknown = t.checkins().exit_by_hand("Z999", nullptr, std::nullopt, "m");
        CHECK(unknown.status().code() == "not_found");
    }
}

TEST_CASE("presence: a session just ended still takes exits, never entries")
{
    TestDevice t(presence(ck::test::kInMorning));
    const std::string badge = t.credential("A001");
    REQUIRE(t.checkins().badge(badge).is_ok());
    REQUIRE(t.checkins().badge(t.credential("A002")).is_ok());
    t.time().set_wall(at("2026-11-23T12:40:00+01:00"));  // d1-am ended at 12:30
    auto out = t.checkins().badge(badge);
    REQUIRE_MESSAGE(out.is_ok(), out.status().message());
    CHECK(out->record.exit());
    CHECK(out->record.session_id == "d1-am");
    CHECK(out->presence->minutes_present == 230);  // 08:40 to the end, 12:30
    // Someone outside scanning now: no session to enter.
    auto entry = t.checkins().badge(t.credential("A003"));
    REQUIRE_FALSE(entry.is_ok());
    CHECK(entry.status().code() == "no_open_session");
    CHECK(t.store().last_seq() == 3);

    // A phone whose display token names d1-am (the token still works just after the end):
    // the one inside leaves; the one outside does not enter a session that is over.
    const ck::ResolvedSession& am = *t.device().schedule->find("d1-am");
    auto phone_exit = t.checkins().phone("A002", am);
    REQUIRE_MESSAGE(phone_exit.is_ok(), phone_exit.status().message());
    CHECK(phone_exit->record.exit());
    auto phone_entry = t.checkins().phone("A003", am);
    REQUIRE_FALSE(phone_entry.is_ok());
    CHECK(phone_entry.status().code() == "no_open_session");
    CHECK(phone_entry.status().message() == "This session has ended.");
    CHECK(t.store().last_seq() == 4);
}

TEST_CASE("presence: leaving after the end while the next session's window is open is an exit")
{
    // Check-in opens 120 minutes ahead: d1-pm (14:00) takes entries from 12:00, before d1-am
    // (to 12:30) has ended.
    TestDeviceOptions options = presence(ck::test::kInMorning);
    options.config["module"]["checkin_opens_before_min"] = 120;
    TestDevice t(std::move(options));
    const std::string badge = t.credential("A001");
    REQUIRE(t.checkins().badge(badge).is_ok());
    t.time().set_wall(at("2026-11-23T08:45:00+01:00"));
    REQUIRE(t.checkins().badge(t.credential("A002")).is_ok());

    t.time().set_wall(at("2026-11-23T12:33:00+01:00"));
    auto out = t.checkins().badge(badge);
    REQUIRE_MESSAGE(out.is_ok(), out.status().message());
    CHECK(out->record.exit());
    CHECK(out->record.session_id == "d1-am");
    CHECK(out->presence->minutes_present == 230);
    // Staff record A002's forgotten exit, no session named: out of d1-am too.
    auto by_hand = t.checkins().exit_by_hand("A002", nullptr, at("2026-11-23T12:32:00+01:00"),
                                             "maria", "left by the side door");
    REQUIRE_MESSAGE(by_hand.is_ok(), by_hand.status().message());
    CHECK(by_hand->record.exit());
    CHECK(by_hand->record.session_id == "d1-am");
    // Someone outside enters d1-pm; and A001, back after a few minutes, enters it too.
    auto in = t.checkins().badge(t.credential("A003"));
    REQUIRE(in.is_ok());
    CHECK_FALSE(in->record.exit());
    CHECK(in->record.session_id == "d1-pm");
    t.time().set_wall(at("2026-11-23T12:40:00+01:00"));
    auto back = t.checkins().badge(badge);
    REQUIRE(back.is_ok());
    CHECK_FALSE(back->record.exit());
    CHECK(back->record.session_id == "d1-pm");
}

TEST_CASE("presence: a held scan just after the end is filed as the exit")
{
    TestDeviceOptions options = presence(ck::test::kInMorning, {{"count_missing_exit", false}});
    options.ntp = false;
    TestDevice t(std::move(options));
    const std::string badge = t.credential("A001");
    REQUIRE(t.checkins().badge(badge)->kind == CheckinResult::Kind::held);
    t.time().pass(4h);  // 12:40, d1-am ended at 12:30
    REQUIRE(t.checkins().badge(badge)->kind == CheckinResult::Kind::held);
    t.time().pass(5min);
    const ck::ClockCorrection done = ck::correct_clock(
        t.device(), t.checkins(), at("2026-11-23T12:45:00+01:00"), "staff", "maria");
    CHECK(done.filed.filed == 2);
    CHECK(done.filed.left == 0);
    auto records = t.store().checkins_of_attendee("A001");  // in id order
    REQUIRE(records.size() == 2);
    std::sort(records.begin(), records.end(),
              [](const auto& a, const auto& b) { return a.at < b.at; });
    CHECK_FALSE(records[0].exit());
    CHECK(records[1].exit());
    CHECK(records[1].session_id == "d1-am");
    CHECK(records[1].at == at("2026-11-23T12:40:00+01:00"));
}

TEST_CASE("presence: an entry in one session and a scan in the next is an entry there")
{
    TestDevice t(presence(ck::test::kInMorning));
    const std::string badge = t.credential("A001");
    REQUIRE(t.checkins().badge(badge).is_ok());
    t.time().set_wall(at("2026-11-23T14:10:00+01:00"));  // d1-pm: forgot to scan out at lunch
    auto pm = t.checkins().badge(badge);
    REQUIRE(pm.is_ok());
    CHECK_FALSE(pm->record.exit());
    CHECK(pm->record.session_id == "d1-pm");
    // d1-am counts to its end, flagged no_exit.
    const auto attendance =
        ck::attendance_of(t.device().config.module, t.store().checkins_of_attendee("A001"),
                          at("2026-11-23T15:00:00+01:00"));
    REQUIRE(attendance.presence.count("d1-am") == 1);
    CHECK(attendance.presence.at("d1-am").no_exit);
    CHECK(attendance.presence.at("d1-am").minutes_present == 230);
    CHECK(attendance.presence.at("d1-pm").minutes_present == 50);  // 14:10 to now, 15:00
    CHECK(attendance.presence.at("d1-pm").inside);
}

TEST_CASE("presence: voiding an exit puts the attendee back inside; voiding an entry drops both")
{
    TestDevice t(presence(ck::test::kInMorning));
    const std::string badge = t.credential("A001");
    auto in = t.checkins().badge(badge);
    t.time().set_wall(at("2026-11-23T09:00:00+01:00"));
    auto out = t.checkins().badge(badge);
    REQUIRE((in.is_ok() && out.is_ok()));
    REQUIRE(out->record.exit());
    REQUIRE(t.store()
                .void_checkin(ck::test::kModuleId, out->record.id, "scanned by mistake",
                              t.device().actor("maria"))
                .is_ok());
    // Inside again: the next scan leaves.
    t.time().set_wall(at("2026-11-23T12:00:00+01:00"));
    auto leave = t.checkins().badge(badge);
    REQUIRE(leave.is_ok());
    CHECK(leave->record.exit());
    CHECK(leave->presence->minutes_present == 200);  // 08:40 to 12:00
    // The wrong badge: its entry voided, its exit goes with it.
    REQUIRE(t.store()
                .void_checkin(ck::test::kModuleId, in->record.id, "not this attendee",
                              t.device().actor("maria"))
                .is_ok());
    const auto attendance =
        ck::attendance_of(t.device().config.module, t.store().checkins_of_attendee("A001"));
    CHECK(attendance.presence.empty());
    CHECK(event_types(t.store()) ==
          std::vector<std::string>{"checkin", "checkout", "void", "checkout", "void"});
}

TEST_CASE("presence: a scan held while the clock was untrusted is filed at its true time")
{
    TestDeviceOptions options = presence(ck::test::kInMorning);
    options.ntp = false;
    TestDevice t(std::move(options));
    const std::string badge = t.credential("A001");
    auto held = t.checkins().badge(badge);
    REQUIRE(held.is_ok());
    CHECK(held->kind == CheckinResult::Kind::held);
    // Two hours later staff set the clock: the held entry is filed at 08:40 (true time).
    t.time().pass(2h);
    const ck::ClockCorrection done = ck::correct_clock(
        t.device(), t.checkins(), at("2026-11-23T10:40:00+01:00"), "staff", "maria");
    CHECK(done.filed.filed == 1);
    const auto records = t.store().checkins_of_attendee("A001");
    REQUIRE(records.size() == 1);
    CHECK(records[0].at == at(ck::test::kInMorning));
    CHECK_FALSE(records[0].exit());
    // The next scan leaves: two hours inside.
    auto out = t.checkins().badge(badge);
    REQUIRE(out.is_ok());
    CHECK(out->record.exit());
    CHECK(out->presence->minutes_present == 120);
}

TEST_CASE("presence: the HTTP answers say which it did")
{
    TestDevice t(presence(ck::test::kInMorning));
    t.add_staff("maria", "correct horse battery");
    const std::string body = nlohmann::json{{"credential", t.credential("A001")}}.dump();
    auto in = t.call("POST", "/api/v1/checkins", body);
    CHECK(in.status == 201);
    CHECK(in.json()["status"] == "checked_in");
    CHECK(in.json()["presence"]["inside"] == true);
    t.time().set_wall(at("2026-11-23T11:10:00+01:00"));
    auto out = t.call("POST", "/api/v1/checkins", body);
    CHECK(out.status == 201);
    CHECK(out.json()["status"] == "checked_out");
    CHECK(out.json()["minutes_present"] == 150);  // 08:40 to 11:10
    CHECK(out.json()["checkin"]["kind"] == "checkout");
    t.time().pass(30s);
    auto repeat = t.call("POST", "/api/v1/checkins", body);
    CHECK(repeat.status == 200);
    CHECK(repeat.json()["status"] == "already_checked_in");

    auto manual_in = t.call("POST", "/api/v1/attendees/A002/checkins", "{}", "maria");
    CHECK(manual_in.status == 201);
    auto manual_out =
        t.call("POST", "/api/v1/attendees/A002/checkouts",
               R"({"at": "2026-11-23T11:10:30+01:00", "reason": "left early"})", "maria");
    CHECK(manual_out.status == 201);
    CHECK(manual_out.json()["status"] == "checked_out");
    auto bad_time =
        t.call("POST", "/api/v1/attendees/A002/checkouts", R"({"at": "noon"})", "maria");
    CHECK(bad_time.status == 400);
    auto outside = t.call("POST", "/api/v1/attendees/A003/checkouts", "{}", "maria");
    CHECK(outside.status == 409);
    CHECK(outside.code() == "not_inside");
}

TEST_CASE("session mode: no exits to record")
{
    TestDevice t;
    t.add_staff("maria", "correct horse battery");
    auto out = t.call("POST", "/api/v1/attendees/A001/checkouts", "{}", "maria");
    CHECK(out.status == 409);
    CHECK(out.code() == "not_presence_mode");
}

TEST_CASE("presence: what staff see - summary, inside now, left early, the attendee, exports")
{
    TestDevice t(presence("2026-11-23T08:30:00+01:00"));
    t.add_staff("maria", "correct horse battery");
    // A001 stays all morning; A002 leaves at 10:00; A003 leaves at 09:00 and comes back at
    // 11:00, still inside.
    REQUIRE(t.checkins().badge(t.credential("A001")).is_ok());
    REQUIRE(t.checkins().badge(t.credential("A002")).is_ok());
    REQUIRE(t.checkins().badge(t.credential("A003")).is_ok());
    t.time().set_wall(at("2026-11-23T09:00:00+01:00"));
    REQUIRE(t.checkins().badge(t.credential("A003")).is_ok());
    t.time().set_wall(at("2026-11-23T10:00:00+01:00"));
    REQUIRE(t.checkins().badge(t.credential("A002")).is_ok());
    t.time().set_wall(at("2026-11-23T11:00:00+01:00"));
    REQUIRE(t.checkins().badge(t.credential("A003")).is_ok());
    t.time().set_wall(at("2026-11-23T11:30:00+01:00"));

    auto summary = t.call("GET", "/api/v1/summary", "", "maria").json();
    CHECK(summary["attendance_mode"] == "presence");
    const auto& am = summary["sessions"][0];
    CHECK(am["id"] == "d1-am");
    CHECK(am["present"] == 3);
    CHECK(am["inside"] == 2);
    CHECK(am["left_early"] == 1);
    CHECK(am["attended"] == 0);  // 180 of 240 minutes so far at best

    auto presence = t.call("GET", "/api/v1/presence", "", "maria");
    REQUIRE(presence.status == 200);
    auto p = presence.json();
    CHECK(p["session"]["id"] == "d1-am");
    REQUIRE(p["inside"].size() == 2);
    CHECK(p["inside"][0]["attendee_id"] == "A001");
    CHECK(p["inside"][0]["minutes_present"] == 180);
    CHECK(p["inside"][1]["since"] == "11:00");
    REQUIRE(p["left_early"].size() == 1);
    CHECK(p["left_early"][0]["attendee_id"] == "A002");
    CHECK(p["left_early"][0]["left_at"] == "10:00");
    CHECK(p["left_early"][0]["minutes_present"] == 90);

    auto detail = t.call("GET", "/api/v1/attendees/A003", "", "maria").json();
    const auto& stays = detail["presence"]["d1-am"]["intervals"];
    REQUIRE(stays.size() == 2);
    CHECK(stays[0]["entered"] == "08:30");
    CHECK(stays[0]["left"] == "09:00");
    CHECK(stays[1]["left"].is_null());
    CHECK(detail["presence"]["d1-am"]["minutes_present"] == 60);  // 30 + 30 until now

    auto list = t.call("GET", "/api/v1/attendees", "", "maria").json();
    CHECK(list["attendees"][1]["presence"]["d1-am"]["minutes_present"] == 90);
    auto metrics = t.call("GET", "/metrics").body;
    CHECK(metrics.find("course_kiosk_presence_inside{session=\"d1-am\"} 2") != std::string::npos);
    CHECK(metrics.find("course_kiosk_presence_left_early{session=\"d1-am\"} 1") !=
          std::string::npos);

    // After the morning: A001 and A003 counted to the end (no exit), A002 left early.
    t.time().set_wall(at("2026-11-23T18:30:00+01:00"));
    const std::string csv = ck::export_csv(t.device(), ',');
    CHECK(csv.find("minutes_present,credits,stays,no_exit") != std::string::npos);
    CHECK(csv.find("08:30-10:00") != std::string::npos);
    CHECK(csv.find("08:30-09:00; 11:00-(no exit)") != std::string::npos);
    auto completions = ck::completions_json(t.device());
    for (const auto& record : completions["records"]) {
        if (record["attendee_id"] == "A001") {
            CHECK(record["minutes_present"]["d1-am"] == 240);
            CHECK(record["cme_credits"] == 3);
            CHECK(record["sessions_attended"] == 1);
        }
        if (record["attendee_id"] == "A002") {
            CHECK(record["minutes_present"]["d1-am"] == 90);
            CHECK(record["cme_credits"] == 1.5);
            CHECK(record["sessions_attended"] == 0);
        }
    }
}

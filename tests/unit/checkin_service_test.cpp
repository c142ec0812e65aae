// CheckinService (app/checkin_service.hpp): every way a check-in comes in, decided and
// recorded once, on a real store and a scripted clock.
#include "app/checkin_service.hpp"

#include <doctest/doctest.h>

#include "app/clock_correction.hpp"
#include "test_device.hpp"

namespace {

using ck::CheckinResult;
using ck::test::at;
using ck::test::TestDevice;
using ck::test::TestDeviceOptions;
using namespace std::chrono_literals;

TestDeviceOptions at_time(const char* now, bool ntp = true)
{
    TestDeviceOptions options;
    options.now = now;
    options.ntp = ntp;
    return options;
}

}  // namespace

TEST_CASE("badge: created, already, late, not in roster, refused")
{
    struct Case {
        const char* name;
        const char* now;
        const char* attendee;
        const char* module;  // the badge's module
        const char* code;    // "" = recorded
        bool late;
        bool not_in_roster;
    };
    const Case cases[] = {
        {"in the window, on time", ck::test::kInMorning, "A001", ck::test::kModuleId, "", false,
         false},
        {"in the window, late", ck::test::kLateMorning, "A002", ck::test::kModuleId, "", true,
         false},
        {"a valid badge of someone not yet rostered", ck::test::kInMorning, "LATE-1",
         ck::test::kModuleId, "", false, true},
        {"another module's badge", ck::test::kInMorning, "A001", "ecnr-2026-2-m2", "wrong_module",
         false, false},
        {"between sessions", ck::test::kBetween, "A001", ck::test::kModuleId, "no_open_session",
         false, false},
    };
    for (const Case& c : cases) {
        CAPTURE(c.name);
        TestDevice t(at_time(c.now));
        const std::string badge =
            t.device().signing_key->issue({.module_id = c.module, .attendee_id = c.attendee});
        auto result = t.checkins().badge(badge);
        if (*c.code != '\0') {
            REQUIRE_FALSE(result.is_ok());
            CHECK(result.status().code() == c.code);
            CHECK(t.store().checkin_count() == 0);
            continue;
        }
        REQUIRE_MESSAGE(result.is_ok(), result.status().message());
        CHECK(result->kind == CheckinResult::Kind::created);
        CHECK(result->record.session_id == "d1-am");
        CHECK(result->record.source == "badge");
        CHECK(result->record.late == c.late);
        CHECK(result->record.not_in_roster == c.not_in_roster);
        CHECK(result->attendee.has_value() == !c.not_in_roster);
        CHECK(result->record.at == at(c.now));

        // The same badge again: the first check-in, nothing new in the log.
        t.time().pass(5min);
        auto again = t.checkins().badge(badge);
        REQUIRE(again.is_ok());
        CHECK(again->kind == CheckinResult::Kind::already);
        CHECK(again->record.id == result->record.id);
        CHECK(again->record.at == at(c.now));
        CHECK(t.store().last_seq() == 1);
    }
}

TEST_CASE("badge: a re-issued badge revokes the old one; garbage is not a badge")
{
    TestDevice t;
    const std::string old_badge = t.credential("A001");
    REQUIRE(t.store().reissue("A001", "lost").is_ok());
    auto refused = t.checkins().badge(old_badge);
    REQUIRE_FALSE(refused.is_ok());
    CHECK(refused.status().code() == "revoked");
    auto fresh = t.checkins().badge(t.credential("A001"));
    REQUIRE(fresh.is_ok());
    CHECK(fresh->record.issue == 2);
    auto garbage = t.checkins().badge("HELLO WORLD");
    REQUIRE_FALSE(garbage.is_ok());
    CHECK(garbage.status().code() == "invalid_credential");
}

TEST_CASE("manual: the open session by default, a chosen one, never late outside its window")
{
    TestDevice t(at_time(ck::test::kLateMorning));
    const ck::Schedule& schedule = *t.device().schedule;

    auto open = t.checkins().manual("A001", nullptr, "maria");
    REQUIRE(open.is_ok());
    CHECK(open->record.session_id == "d1-am");
    CHECK(open->record.source == "manual");
    CHECK(open->record.staff == "maria");
    CHECK(open->record.late);  // 10:00, in the window, after 08:45

    // Not Tuesday's session on Monday: it has not taken place.
    auto early = t.checkins().manual("A002", schedule.find("d2-am"), "maria");
    REQUIRE_FALSE(early.is_ok());
    CHECK(early.status().code() == "session_not_started");
    CHECK(early.status().message().find("07:30 on Tuesday 24 November") != std::string::npos);
    CHECK(t.store().checkins_of_attendee("A002").empty());

    // Staff correct Monday's record on Tuesday: only with a reason; recorded, flagged neither
    // late nor on time, and the reason is in the audit log.
    t.time().set_wall(at("2026-11-24T15:00:00+01:00"));
    auto unexplained = t.checkins().manual("A002", schedule.find("d1-am"), "maria");
    REQUIRE_FALSE(unexplained.is_ok());
    CHECK(unexplained.status().code() == "reason_required");
    auto corrected =
        t.checkins().manual("A002", schedule.find("d1-am"), "maria", "badge forgotten");
    REQUIRE(corrected.is_ok());
    CHECK(corrected->record.session_id == "d1-am");
    CHECK_FALSE(corrected->record.late);

    auto unknown = t.checkins().manual("NOBODY", nullptr, "maria");
    REQUIRE_FALSE(unknown.is_ok());
    CHECK(unknown.status().code() == "not_found");

    // The audit log names the staff member for each manual check-in.
    int manual_entries = 0;
    for (const auto& e : t.store().audit_entries(50)) {
        if (e.body.value("action", "") != "manual_checkin") continue;
        ++manual_entries;
        const auto& details = e.body["details"];
        CHECK(details.value("reason", "") ==
              (details["attendee_id"] == "A002" ? "badge forgotten" : ""));
    }
    CHECK(manual_entries == 2);
}

TEST_CASE("phone: into the session its token names; identified by badge or by name")
{
    TestDevice t;
    const ck::ResolvedSession& am = *t.device().schedule->find("d1-am");
    auto result = t.checkins().phone("A003", am);
    REQUIRE(result.is_ok());
    CHECK(result->record.source == "phone");
    REQUIRE(result->attendee.has_value());
    CHECK(result->attendee->first_name_initial() == "Chlo\xC3\xA9 D.");

    struct Case {
        const char* name;
        ck::PhoneProof proof;
        const char* attendee;  // "" = not found
    };
    const Case cases[] = {
        {"badge", {t.credential("A002"), "", ""}, "A002"},
        {"number and family name", {std::nullopt, "A002", "M\xC3\xBCller"}, "A002"},
        {"spaces around the number, another case",
         {std::nullopt, " A002 ", "m\xC3\xBCLLER"},
         "A002"},
        {"the number in lower case, the name without its letter",
         {std::nullopt, "a002", "Mueller"},
         "A002"},
        {"the name without its accent, as a phone types it",
         {std::nullopt, " a002", "muller"},
         "A002"},
        {"the accent of another name", {std::nullopt, "A003", "Dubo\xC3\xAFs"}, "A003"},
        {"wrong family name", {std::nullopt, "A002", "Meier"}, ""},
        {"the number in lower case, a wrong name", {std::nullopt, "a002", "Miller"}, ""},
        {"the family name of someone else", {std::nullopt, "a002", "Kowalska"}, ""},
        {"a number that differs in more than case", {std::nullopt, "A02", "M\xC3\xBCller"}, ""},
        {"only punctuation for a name", {std::nullopt, "A002", "'-"}, ""},
        {"unknown number", {std::nullopt, "A999", "Kowalska"}, ""},
        {"a tampered badge", {std::string("X") + t.credential("A002"), "", ""}, ""},
    };
    for (const Case& c : cases) {
        CAPTURE(c.name);
        auto who = t.checkins().identify(c.proof);
        if (*c.attendee == '\0') {
            REQUIRE_FALSE(who.is_ok());
            CHECK(who.status().code() == "identity_not_found");
        } else {
            REQUIRE(who.is_ok());
            CHECK(who->attendee_id == c.attendee);
            CHECK(who->issue == 1);
        }
    }
}

TEST_CASE("phone: registration numbers that differ only in case are told apart by the name")
{
    TestDevice t;
    const std::vector<ck::Attendee> people = {
        {"AB-1", "Nowak", "Jan", "", "PL"},
        {"ab-1", "Nowak", "Ewa", "", "PL"},
        {"CD-1", "Kowal", "Piotr", "", "PL"},
        {"cd-1", "Nowak", "Ola", "", "PL"},
    };
    REQUIRE(t.store().import_roster(people).is_ok());
    struct Case {
        std::string id;
        std::string family_name;
        std::string attendee;  // "" = not found
    };
    const Case cases[] = {
        {"AB-1", "Nowak", "AB-1"},                         // exactly as written: that one
        {"ab-1", "nowak", "ab-1"}, {"Ab-1", "Nowak", ""},  // either of two: neither, certainly
        {"Cd-1", "Nowak", "cd-1"},                         // only one of the two has this name
        {"cD-1", "KOWAL", "CD-1"}, {"Cd-1", "Kowalska", ""},
    };
    for (const Case& c : cases) {
        CAPTURE(c.id);
        CAPTURE(c.family_name);
        auto who = t.checkins().identify({std::nullopt, c.id, c.family_name});
        if (c.attendee.empty()) {
            CHECK_FALSE(who.is_ok());
        } else {
            REQUIRE(who.is_ok());
            CHECK(who->attendee_id == c.attendee);
        }
    }
}

TEST_CASE("held: an untrusted clock holds, a correction files under the true session")
{
    // The Pi booted with its clock a day behind; NTP never answered.
    TestDevice t(at_time("2026-11-22T08:40:00+01:00", /*ntp=*/false));
    auto held = t.checkins().badge(t.credential("A001"));
    REQUIRE(held.is_ok());
    CHECK(held->kind == CheckinResult::Kind::held);
    CHECK(held->held.device_time == "2026-11-22T08:40:00+01:00");
    REQUIRE(held->attendee.has_value());
    CHECK(t.store().held_count() == 1);
    CHECK(t.store().checkin_count() == 0);
    CHECK(t.checkins().file_held().filed == 0);  // nothing is filed on an untrusted clock

    // Ten minutes later staff say it is Monday 08:50: the check-in was at 08:40, in d1-am.
    t.time().pass(10min);
    ck::ClockCorrection done = ck::correct_clock(t.device(), t.checkins(),
                                                 at("2026-11-23T08:50:00+01:00"), "staff", "maria");
    CHECK(done.filed.filed == 1);
    CHECK(done.filed.left == 0);
    CHECK(t.store().held_count() == 0);
    auto filed = t.store().find_checkin("A001", "d1-am");
    REQUIRE(filed.has_value());
    CHECK(filed->at == at("2026-11-23T08:40:00+01:00"));
    CHECK_FALSE(filed->late);
    CHECK_FALSE(filed->clock_untrusted);
    // The event says it was held, and by whom it was filed.
    auto events = t.store().events_from(1, 10);
    REQUIRE(events.size() == 1);
    CHECK(events[0].body["held"]["filed_by"] == "clock");
    CHECK(events[0].body["held"]["device_time"] == "2026-11-22T08:40:00+01:00");
    bool audited = false;
    for (const auto& e : t.store().audit_entries(20)) {
        if (e.body.value("action", "") == "set_clock") {
            audited = true;
            CHECK(e.body["actor"] == "maria");
            CHECK(e.body["details"]["to"] == "2026-11-23T08:50:00+01:00");
        }
    }
    CHECK(audited);
}

TEST_CASE("held: a second scan within ten minutes is already recorded, and kept; filed once")
{
    TestDevice t(at_time("2026-11-22T08:40:00+01:00", /*ntp=*/false));
    const std::string badge = t.credential("A001");
    REQUIRE(t.checkins().badge(badge)->kind == CheckinResult::Kind::held);
    t.time().pass(2min);
    auto again = t.checkins().badge(badge);
    REQUIRE(again.is_ok());
    CHECK(again->kind == CheckinResult::Kind::already_held);
    CHECK(again->attendee.has_value());
    auto other = t.checkins().badge(t.credential("A002"));  // someone else: a first scan
    CHECK(other->kind == CheckinResult::Kind::held);
    t.time().pass(9min);  // 11 min after the first, 9 after the second: still "already"
    CHECK(t.checkins().badge(badge)->kind == CheckinResult::Kind::already_held);
    t.time().pass(11min);
    CHECK(t.checkins().badge(badge)->kind == CheckinResult::Kind::held);
    // Every scan is kept (two of them could belong to different sessions) ...
    CHECK(t.store().held_count() == 5);

    // ... and filing makes one check-in per attendee and session: all of A001's scans fall
    // in d1-am (08:40 to 09:02).
    ck::correct_clock(t.device(), t.checkins(), at("2026-11-23T09:02:00+01:00"), "staff", "maria");
    CHECK(t.store().held_count() == 0);
    CHECK(t.store().checkins_of_attendee("A001").size() == 1);
    CHECK(t.store().checkins_of_attendee("A002").size() == 1);
}

TEST_CASE("held: what cannot be filed by itself stays held with the reason; staff file it")
{
    TestDevice t(at_time("2026-11-22T08:40:00+01:00", false));
    REQUIRE(t.checkins().badge(t.credential("A001")).is_ok());
    REQUIRE(t.checkins().badge(t.credential("A002")).is_ok());
    // Four hours later staff set the clock: both were taken at 12:45, between sessions.
    t.time().pass(4h);
    ck::correct_clock(t.device(), t.checkins(), at("2026-11-23T16:45:00+01:00"), "staff", "maria");
    auto left = t.store().held_checkins();
    CHECK(t.store().checkin_count() == 0);
    REQUIRE(left.size() == 2);
    for (const auto& h : left) CHECK(h.problem.find("no session was open") != std::string::npos);

    auto bad_session = t.checkins().file_held_by_hand(left[0].id, "d9-xx", "maria");
    CHECK(bad_session.code() == "malformed_request");
    REQUIRE(t.checkins().file_held_by_hand(left[0].id, "d1-am", "maria").is_ok());
    CHECK(t.store().held_count() == 1);
    auto filed = t.store().find_checkin(left[0].attendee_id, "d1-am");
    REQUIRE(filed.has_value());
    CHECK(filed->at == at("2026-11-23T12:45:00+01:00"));  // its true time, as best known
    CHECK_FALSE(filed->late);  // after d1-am's window: a correction, never late
    CHECK_FALSE(filed->clock_untrusted);
    auto gone = t.checkins().file_held_by_hand(left[0].id, "d1-am", "maria");
    CHECK(gone.code() == "not_found");

    // Taken in an earlier boot: the time between is unknown, staff decide.
    t.time().reboot("boot-2");
    auto after_reboot = t.checkins().file_held();
    CHECK(after_reboot.filed == 0);
}

TEST_CASE("held: refused instead when the config says so")
{
    TestDeviceOptions options = at_time(ck::test::kInMorning, false);
    options.config = {{"clock", {{"refuse_checkins_when_untrusted", true}}}};
    TestDevice t(std::move(options));
    auto refused = t.checkins().badge(t.credential("A001"));
    REQUIRE_FALSE(refused.is_ok());
    CHECK(refused.status().code() == "clock_not_trusted");
    CHECK(t.store().held_count() == 0);
}

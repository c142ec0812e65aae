#include "core/time.hpp"

#include <date/date.h>
#include <date/tz.h>
#include <doctest/doctest.h>

#include <string>

using ck::Instant;

namespace {

Instant at(int y, unsigned m, unsigned d, int hh, int mm, int ss)
{
    return date::sys_days{date::year{y} / date::month{m} / date::day{d}} + std::chrono::hours{hh} +
           std::chrono::minutes{mm} + std::chrono::seconds{ss};
}

const date::time_zone* zone(const char* name) { return date::locate_zone(name); }

}  // namespace

TEST_CASE("format_rfc3339 uses the zone's offset at that instant")
{
    struct Case {
        Instant t;
        const char* zone;  // nullptr: UTC
        const char* expected;
    };
    const Case cases[] = {
        {at(2026, 11, 23, 7, 41, 7), "Europe/Paris", "2026-11-23T08:41:07+01:00"},
        {at(2026, 7, 1, 7, 41, 7), "Europe/Paris", "2026-07-01T09:41:07+02:00"},
        {at(2026, 3, 29, 0, 59, 59), "Europe/Paris", "2026-03-29T01:59:59+01:00"},
        {at(2026, 3, 29, 1, 0, 0), "Europe/Paris", "2026-03-29T03:00:00+02:00"},
        {at(2026, 10, 25, 0, 30, 0), "Europe/Paris", "2026-10-25T02:30:00+02:00"},
        {at(2026, 10, 25, 1, 30, 0), "Europe/Paris", "2026-10-25T02:30:00+01:00"},
        {at(2026, 11, 24, 2, 0, 0), "America/New_York", "2026-11-23T21:00:00-05:00"},
        {at(2026, 11, 22, 19, 30, 0), "Pacific/Auckland", "2026-11-23T08:30:00+13:00"},
        {at(2026, 11, 23, 7, 41, 7), "Asia/Kolkata", "2026-11-23T13:11:07+05:30"},
        {at(2026, 11, 23, 7, 41, 7), "UTC", "2026-11-23T07:41:07+00:00"},
        {at(2026, 11, 23, 7, 41, 7), nullptr, "2026-11-23T07:41:07Z"},
    };
    for (const auto& c : cases) {
        CAPTURE(c.expected);
        CHECK(ck::format_rfc3339(c.t, c.zone ? zone(c.zone) : nullptr) == c.expected);
    }
}

TEST_CASE("format_rfc3339_utc and format_local_hhmm")
{
    CHECK(ck::format_rfc3339_utc(at(2026, 11, 23, 7, 41, 7)) == "2026-11-23T07:41:07Z");
    CHECK(ck::format_rfc3339_utc(Instant{}) == "1970-01-01T00:00:00Z");
    CHECK(ck::format_local_hhmm(at(2026, 11, 23, 7, 41, 59), zone("Europe/Paris")) == "08:41");
    CHECK(ck::format_local_hhmm(at(2026, 11, 23, 23, 0, 0), zone("Europe/Paris")) == "00:00");
    CHECK(ck::format_local_hhmm(at(2026, 11, 24, 2, 0, 0), zone("America/New_York")) == "21:00");
    CHECK(ck::format_local_hhmm(at(2026, 11, 23, 7, 41, 7), nullptr) == "07:41");
}

TEST_CASE("parse_rfc3339 accepts RFC 3339 date-times")
{
    struct Case {
        const char* text;
        Instant expected;
    };
    const Case cases[] = {
        {"2026-11-23T07:41:07Z", at(2026, 11, 23, 7, 41, 7)},
        {"2026-11-23t07:41:07z", at(2026, 11, 23, 7, 41, 7)},
        {"2026-11-23T08:41:07+01:00", at(2026, 11, 23, 7, 41, 7)},
        {"2026-11-23T02:41:07-05:00", at(2026, 11, 23, 7, 41, 7)},
        {"2026-11-23T13:11:07+05:30", at(2026, 11, 23, 7, 41, 7)},
        {"2026-11-23T07:41:07-00:00", at(2026, 11, 23, 7, 41, 7)},
        {"2026-11-23T07:41:07.999Z", at(2026, 11, 23, 7, 41, 7)},
        {"2026-11-23T07:41:07.5+00:00", at(2026, 11, 23, 7, 41, 7)},
        {"2026-11-23T07:41:07.123456789Z", at(2026, 11, 23, 7, 41, 7)},
        {"2026-11-24T00:30:00+01:00", at(2026, 11, 23, 23, 30, 0)},
        {"2028-02-29T00:00:00Z", at(2028, 2, 29, 0, 0, 0)},
        {"1970-01-01T00:00:00Z", Instant{}},
    };
    for (const auto& c : cases) {
        CAPTURE(c.text);
        const auto parsed = ck::parse_rfc3339(c.text);
        REQUIRE(parsed.has_value());
        CHECK(*parsed == c.expected);
    }
}

TEST_CASE("parse_rfc3339 rejects everything else")
{
    const char* const cases[] = {
        "",
        "2026-11-23",
        "2026-11-23T07:41:07",   // no offset
        "2026-11-23 07:41:07Z",  // space separator
        "2026-11-23X07:41:07Z",
        "2026-11-23T07:41Z",         // no seconds
        "2026-11-23T07:41:07.Z",     // empty fraction
        "2026-11-23T07:41:07,5Z",    // comma fraction
        "2026-11-23T07:41:07+0100",  // offset without colon
        "2026-11-23T07:41:07+01",
        "2026-11-23T07:41:07+24:00",
        "2026-11-23T07:41:07+01:60",
        "2026-11-23T07:41:07ZZ",
        "2026-11-23T07:41:07Z ",
        " 2026-11-23T07:41:07Z",
        "2026-13-01T00:00:00Z",
        "2026-00-01T00:00:00Z",
        "2026-02-29T00:00:00Z",  // not a leap year
        "2026-04-31T00:00:00Z",
        "2026-11-00T00:00:00Z",
        "2026-11-23T24:00:00Z",
        "2026-11-23T07:60:00Z",
        "2026-12-31T23:59:60Z",  // leap seconds are not represented
        "26-11-23T07:41:07Z",
        "2026-1-23T07:41:07Z",
        "+2026-11-23T07:41:07Z",
        "2026-11-23T07:41:07.5",
        "2026-11-23T07:4a:07Z",
        "not a time",
    };
    for (const char* text : cases) {
        CAPTURE(text);
        CHECK_FALSE(ck::parse_rfc3339(text).has_value());
    }
}

TEST_CASE("RFC 3339 round trips in every zone")
{
    const char* const zones[] = {"Europe/Paris", "America/New_York", "Pacific/Auckland",
                                 "Asia/Kolkata", "UTC"};
    const Instant instants[] = {
        Instant{},
        at(2026, 3, 29, 0, 59, 59),
        at(2026, 3, 29, 1, 0, 0),
        at(2026, 10, 25, 0, 30, 0),
        at(2026, 10, 25, 1, 30, 0),
        at(2026, 11, 23, 7, 41, 7),
        at(2038, 1, 19, 3, 14, 8),
    };
    for (const Instant t : instants) {
        const std::string utc = ck::format_rfc3339_utc(t);
        CAPTURE(utc);
        CHECK(ck::parse_rfc3339(utc) == t);
        for (const char* name : zones) {
            const std::string local = ck::format_rfc3339(t, zone(name));
            CAPTURE(local);
            CHECK(ck::parse_rfc3339(local) == t);
        }
    }
}

TEST_CASE("resolve_local_time: gaps map to the change, repeats to the earliest")
{
    struct Case {
        const char* zone;
        int y;
        unsigned m, d;
        int minutes;
        const char* expected_utc;
    };
    const Case cases[] = {
        {"Europe/Paris", 2026, 11, 23, 8 * 60 + 30, "2026-11-23T07:30:00Z"},
        {"Europe/Paris", 2026, 11, 23, 1440, "2026-11-23T23:00:00Z"},
        {"Europe/Paris", 2026, 3, 29, 1 * 60 + 59, "2026-03-29T00:59:00Z"},
        {"Europe/Paris", 2026, 3, 29, 2 * 60, "2026-03-29T01:00:00Z"},       // gap
        {"Europe/Paris", 2026, 3, 29, 2 * 60 + 30, "2026-03-29T01:00:00Z"},  // gap
        {"Europe/Paris", 2026, 3, 29, 3 * 60, "2026-03-29T01:00:00Z"},
        {"Europe/Paris", 2026, 10, 25, 2 * 60, "2026-10-25T00:00:00Z"},       // repeated
        {"Europe/Paris", 2026, 10, 25, 2 * 60 + 30, "2026-10-25T00:30:00Z"},  // repeated
        {"Europe/Paris", 2026, 10, 25, 3 * 60, "2026-10-25T02:00:00Z"},
        {"Europe/Paris", 2026, 10, 24, 1440, "2026-10-24T22:00:00Z"},
        {"Pacific/Auckland", 2026, 11, 23, 8 * 60 + 30, "2026-11-22T19:30:00Z"},
        {"America/New_York", 2026, 11, 23, 20 * 60, "2026-11-24T01:00:00Z"},
        {nullptr, 2026, 11, 23, 1440, "2026-11-24T00:00:00Z"},
    };
    for (const auto& c : cases) {
        CAPTURE(c.zone ? c.zone : "null");
        CAPTURE(c.expected_utc);
        const Instant t =
            ck::resolve_local_time(c.y, c.m, c.d, c.minutes, c.zone ? zone(c.zone) : nullptr);
        CHECK(ck::format_rfc3339_utc(t) == c.expected_utc);
    }
}

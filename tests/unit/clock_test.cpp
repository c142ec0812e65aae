// DeviceClock with an injected time source: the wall clock jumps, the boot clock does not.
#include "app/clock.hpp"

#include <doctest/doctest.h>

namespace {

using namespace std::chrono_literals;

struct ScriptedTime : ck::TimeSource {
    ck::Instant wall{};
    std::chrono::milliseconds uptime{0};
    std::string boot = "boot-1";
    bool ntp = false;

    ck::Instant wall_now() const override { return wall; }
    std::chrono::milliseconds since_boot() const override { return uptime; }
    std::string boot_id() const override { return boot; }
    bool ntp_synchronised() const override { return ntp; }

    // Time passes: both clocks move on together.
    void pass(std::chrono::seconds d)
    {
        wall += d;
        uptime += d;
    }
};

ck::Instant at(const char* text) { return *ck::parse_rfc3339(text); }

struct Fixture {
    ScriptedTime* time;  // owned by the clock
    std::unique_ptr<ck::DeviceClock> clock;

    Fixture()
    {
        auto source = std::make_unique<ScriptedTime>();
        time = source.get();
        time->wall = at("2026-11-22T20:00:00+01:00");  // restored from the last shutdown
        time->uptime = 40s;
        clock = std::make_unique<ck::DeviceClock>(std::move(source));
    }
};

}  // namespace

TEST_CASE("an unsynchronised clock is not trusted and follows the wall clock")
{
    Fixture f;
    auto r = f.clock->read();
    CHECK_FALSE(r.trusted);
    CHECK(r.source == "none");
    CHECK(r.now == at("2026-11-22T20:00:00+01:00"));
    CHECK(r.stamp.boot_id == "boot-1");
    CHECK(r.stamp.since_boot == 40s);
}

TEST_CASE("NTP synchronised: trusted, the wall clock is the time")
{
    Fixture f;
    f.time->ntp = true;
    CHECK(f.clock->trusted());
    CHECK(f.clock->trust_source() == "ntp");
    // NTP steps the wall clock: the device follows it.
    f.time->wall = at("2026-11-23T08:41:00+01:00");
    CHECK(f.clock->now() == at("2026-11-23T08:41:00+01:00"));
    // Someone sets the date by hand: the kernel drops its synchronised state.
    f.time->ntp = false;
    f.time->wall = at("2031-01-01T00:00:00+01:00");
    CHECK_FALSE(f.clock->trusted());
}

TEST_CASE("a demo trusts the wall clock as it is, and says so; a correction replaces that")
{
    Fixture f;
    f.clock->trust_wall_clock("demo");
    CHECK(f.clock->trusted());
    CHECK(f.clock->trust_source() == "demo");
    CHECK(f.clock->now() == at("2026-11-22T20:00:00+01:00"));
    f.time->wall = at("2026-11-22T20:05:00+01:00");  // it follows the wall clock
    CHECK(f.clock->now() == at("2026-11-22T20:05:00+01:00"));
    f.clock->set(at("2026-11-23T08:00:00+01:00"), "staff");
    CHECK(f.clock->trust_source() == "staff");
    CHECK(f.clock->now() == at("2026-11-23T08:00:00+01:00"));
}

TEST_CASE("a correction by staff is anchored on the boot clock, not the wall clock")
{
    Fixture f;
    f.clock->set(at("2026-11-23T08:40:00+01:00"), "staff");
    CHECK(f.clock->trusted());
    CHECK(f.clock->trust_source() == "staff");
    CHECK(f.clock->now() == at("2026-11-23T08:40:00+01:00"));
    f.time->pass(300s);
    CHECK(f.clock->now() == at("2026-11-23T08:45:00+01:00"));

    SUBCASE("the wall clock jumps backwards")
    {
        f.time->wall = at("1970-01-01T00:00:10Z");
        CHECK(f.clock->now() == at("2026-11-23T08:45:00+01:00"));
        CHECK(f.clock->trusted());
    }
    SUBCASE("the wall clock jumps forwards")
    {
        f.time->wall = at("2027-06-01T12:00:00+02:00");
        f.time->pass(60s);
        CHECK(f.clock->now() == at("2026-11-23T08:46:00+01:00"));
    }
    SUBCASE("NTP, once synchronised, wins")
    {
        f.time->wall = at("2026-11-23T08:45:30+01:00");
        f.time->ntp = true;
        CHECK(f.clock->now() == at("2026-11-23T08:45:30+01:00"));
        CHECK(f.clock->trust_source() == "ntp");
    }
    SUBCASE("the offset is the correction")
    {
        CHECK(f.clock->offset() == at("2026-11-23T08:45:00+01:00") - f.time->wall);
    }
}

TEST_CASE("instant_of: the true time of a reading taken while untrusted")
{
    Fixture f;
    f.time->pass(120s);  // a scan at boot + 160 s, by the wrong wall clock
    ck::BootStamp scan = f.clock->read().stamp;
    CHECK_FALSE(f.clock->instant_of(scan).has_value());  // nobody knows yet

    f.time->pass(600s);  // ten minutes later staff set the clock
    f.clock->set(at("2026-11-23T09:00:00+01:00"), "staff");
    CHECK(f.clock->instant_of(scan) == at("2026-11-23T08:50:00+01:00"));

    SUBCASE("and stays right while the wall clock jumps")
    {
        f.time->wall = at("2001-01-01T00:00:00Z");
        f.time->pass(3600s);
        CHECK(f.clock->instant_of(scan) == at("2026-11-23T08:50:00+01:00"));
    }
    SUBCASE("a reading from another boot has no true time")
    {
        ck::BootStamp earlier{"boot-0", 160s};
        CHECK_FALSE(f.clock->instant_of(earlier).has_value());
    }
}

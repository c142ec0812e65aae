#include "core/checkin_policy.hpp"

#include <date/tz.h>
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

using ck::Instant;
using nlohmann::json;

namespace {

const date::time_zone* tzdb_lookup(std::string_view name) { return date::locate_zone(name); }

// One day of the SPEC section 4 example: d1-am 08:30-12:30 and d1-pm 14:00-18:00 in
// Europe/Paris (CET, +01:00, in November), windows open 60 min early, late after 15 min.
json one_day_module(const char* date_text)
{
    return {{"cycle", "2026-2"},
            {"number", 3},
            {"venue", "Lille"},
            {"timezone", "Europe/Paris"},
            {"checkin_opens_before_min", 60},
            {"late_after_min", 15},
            {"days",
             {{{"date", date_text},
               {"sessions",
                {{{"id", "d1-am"},
                  {"label", "Monday morning"},
                  {"start", "08:30"},
                  {"end", "12:30"},
                  {"cme_hours", 3.5}},
                 {{"id", "d1-pm"},
                  {"label", "Monday afternoon"},
                  {"start", "14:00"},
                  {"end", "18:00"},
                  {"cme_hours", 3.5}}}}}}}};
}

ck::ModuleEdition parse(const json& j)
{
    auto parsed = ck::parse_module(j, tzdb_lookup);
    REQUIRE_MESSAGE(parsed.is_ok(), parsed.status().message());
    return *parsed;
}

Instant at(const char* rfc3339)
{
    const auto t = ck::parse_rfc3339(rfc3339);
    REQUIRE_MESSAGE(t.has_value(), rfc3339);
    return *t;
}

// Everything a check-in decision needs, for the module of 2026-11-23.
struct Fixture {
    ck::ModuleEdition module = parse(one_day_module("2026-11-23"));
    ck::Schedule schedule{module};
    ck::SigningKey key = ck::SigningKey::generate();
    ck::CredentialVerifier verifier{{{key.key_id(), key.public_key()}}};

    ck::CheckinContext context(Instant now) const
    {
        ck::CheckinContext c;
        c.schedule = &schedule;
        c.verifier = &verifier;
        // Issue 1 of ECNR-REVOKED has been replaced.
        c.is_revoked = [](const ck::Credential& cr) {
            return cr.attendee_id == "ECNR-REVOKED" && cr.issue == 1;
        };
        c.now = now;
        return c;
    }

    std::string badge(std::string attendee = "ECNR-10427", std::uint16_t issue = 1,
                      std::string module_id = "ecnr-2026-2-m3") const
    {
        return key.issue(
            {.key_id = 0, .module_id = module_id, .attendee_id = attendee, .issue = issue});
    }
};

// Replaces one base32 character of `text` with another valid one.
std::string tamper(std::string text, std::size_t index)
{
    REQUIRE(index < text.size());
    text[index] = text[index] == 'A' ? 'B' : 'A';
    return text;
}

}  // namespace

TEST_CASE("admit_checkin: a table of credentials and instants")
{
    const Fixture f;
    const std::string good = f.badge();
    const ck::SigningKey stranger = ck::SigningKey::generate();
    // Same key id as the trusted key, different key pair: the signature must not verify.
    const ck::SigningKey impostor = ck::SigningKey::generate().with_key_id(f.key.key_id());
    const ck::Credential typical{
        .key_id = 0, .module_id = "ecnr-2026-2-m3", .attendee_id = "ECNR-10427", .issue = 1};

    struct Case {
        const char* name;
        std::string text;
        const char* now;
        const char* code;     // "" = admitted
        const char* session;  // when admitted
        bool late;
    };
    const Case cases[] = {
        {"in the window, before the start", good, "2026-11-23T08:00:00+01:00", "", "d1-am", false},
        {"at the start", good, "2026-11-23T08:30:00+01:00", "", "d1-am", false},
        {"exactly 15 min after the start is not late", good, "2026-11-23T08:45:00+01:00", "",
         "d1-am", false},
        {"one second later is late", good, "2026-11-23T08:45:01+01:00", "", "d1-am", true},
        {"at 08:46 late", good, "2026-11-23T08:46:00+01:00", "", "d1-am", true},
        {"last second of the session", good, "2026-11-23T12:29:59+01:00", "", "d1-am", true},
        {"window opens at 07:30", good, "2026-11-23T07:30:00+01:00", "", "d1-am", false},
        {"07:29:59 is before the window", good, "2026-11-23T07:29:59+01:00", "no_open_session", "",
         false},
        {"at the end of the morning", good, "2026-11-23T12:30:00+01:00", "no_open_session", "",
         false},
        {"between sessions", good, "2026-11-23T12:45:00+01:00", "no_open_session", "", false},
        {"afternoon window opens at 13:00", good, "2026-11-23T13:00:00+01:00", "", "d1-pm", false},
        {"afternoon late", good, "2026-11-23T14:16:00+01:00", "", "d1-pm", true},
        {"after the last session", good, "2026-11-23T18:00:00+01:00", "no_open_session", "", false},
        {"the same instant written in UTC", good, "2026-11-23T07:46:00Z", "", "d1-am", true},
        {"scanner CR LF", good + "\r\n", "2026-11-23T08:30:00+01:00", "", "d1-am", false},
        {"surrounding spaces", "  " + good + "  ", "2026-11-23T08:30:00+01:00", "", "d1-am", false},
        {"wrong module, signed by the trusted key", f.badge("ECNR-10427", 1, "ecnr-2026-2-m2"),
         "2026-11-23T08:30:00+01:00", "wrong_module", "", false},
        {"revoked issue", f.badge("ECNR-REVOKED", 1), "2026-11-23T08:30:00+01:00", "revoked", "",
         false},
        {"the re-issued badge of a revoked one", f.badge("ECNR-REVOKED", 2),
         "2026-11-23T08:30:00+01:00", "", "d1-am", false},
        {"tampered in the middle", tamper(good, good.size() / 2), "2026-11-23T08:30:00+01:00",
         "invalid_credential", "", false},
        {"tampered at the end", tamper(good, good.size() - 1), "2026-11-23T08:30:00+01:00",
         "invalid_credential", "", false},
        {"untrusted key", stranger.issue(typical), "2026-11-23T08:30:00+01:00",
         "invalid_credential", "", false},
        {"trusted key id, wrong key pair", impostor.issue(typical), "2026-11-23T08:30:00+01:00",
         "invalid_credential", "", false},
        {"empty text", "", "2026-11-23T08:30:00+01:00", "invalid_credential", "", false},
        {"not base32", "hello, world", "2026-11-23T08:30:00+01:00", "invalid_credential", "",
         false},
    };
    for (const Case& c : cases) {
        CAPTURE(c.name);
        const auto result = ck::admit_checkin(c.text, f.context(at(c.now)));
        if (std::string_view(c.code).empty()) {
            REQUIRE_MESSAGE(result.is_ok(), result.status().code(), ": ",
                            result.status().message());
            REQUIRE(result->session != nullptr);
            CHECK(result->session->spec->id == c.session);
            CHECK(ck::Schedule::is_late(*result->session, at(c.now)) == c.late);
            CHECK_FALSE(result->clock_untrusted);
            CHECK(result->credential.module_id == "ecnr-2026-2-m3");
            CHECK(result->credential.key_id == f.key.key_id());
        } else {
            REQUIRE_FALSE(result.is_ok());
            CHECK(result.status().code() == c.code);
            CHECK_FALSE(result.status().message().empty());
            CHECK_FALSE(result.status().hint().empty());
        }
    }
}

TEST_CASE("admit_checkin returns the verified credential")
{
    const Fixture f;
    const auto result =
        ck::admit_checkin(f.badge("ECNR-77", 3), f.context(at("2026-11-23T09:00:00+01:00")));
    REQUIRE(result.is_ok());
    CHECK(result->credential.attendee_id == "ECNR-77");
    CHECK(result->credential.issue == 3);
    CHECK(result->credential.module_id == f.module.id());
    CHECK(result->credential.key_id == f.key.key_id());
    CHECK(result->session == f.schedule.find("d1-am"));
}

TEST_CASE("admit_checkin without a revocation callback admits")
{
    const Fixture f;
    auto context = f.context(at("2026-11-23T09:00:00+01:00"));
    context.is_revoked = nullptr;
    CHECK(ck::admit_checkin(f.badge("ECNR-REVOKED", 1), context).is_ok());
}

TEST_CASE("no_open_session says when the next window opens")
{
    const Fixture f;
    struct Case {
        const char* now;
        std::vector<const char*> contains;
    };
    const Case cases[] = {
        {"2026-11-23T07:29:59+01:00", {"Monday morning", "07:30", "Monday", "23 November"}},
        {"2026-11-23T12:45:00+01:00", {"Monday afternoon", "13:00", "Monday", "23 November"}},
        {"2026-11-22T20:00:00+01:00", {"Monday morning", "07:30", "23 November"}},
        {"2026-11-23T18:00:00+01:00", {"no more sessions"}},
        {"2026-11-24T09:00:00+01:00", {"no more sessions"}},
    };
    for (const Case& c : cases) {
        CAPTURE(c.now);
        const auto result = ck::admit_checkin(f.badge(), f.context(at(c.now)));
        REQUIRE_FALSE(result.is_ok());
        REQUIRE(result.status().code() == "no_open_session");
        const std::string& message = result.status().message();
        CAPTURE(message);
        for (const char* part : c.contains) {
            CHECK_MESSAGE(message.find(part) != std::string::npos, "missing \"", part, "\"");
        }
        CHECK(message.find("  ") == std::string::npos);
    }
    const auto between = ck::admit_checkin(f.badge(), f.context(at("2026-11-23T12:45:00+01:00")));
    MESSAGE("no_open_session between sessions: ", between.status().message());
}

TEST_CASE("no_open_session message on a single-digit day has no double space")
{
    // Regression: "%e" pads a single-digit day with a space, which once made this read
    // "opens at 07:30 on Monday  7 December." with two spaces.
    const ck::ModuleEdition module = parse(one_day_module("2026-12-07"));
    const ck::Schedule schedule(module);
    ck::CheckinContext context;
    context.schedule = &schedule;
    context.now = at("2026-12-07T06:00:00+01:00");
    const auto result = ck::admit_session(context);
    REQUIRE_FALSE(result.is_ok());
    REQUIRE(result.status().code() == "no_open_session");
    MESSAGE("no_open_session on a single-digit day: ", result.status().message());
    CHECK(result.status().message().find("Monday 7 December") != std::string::npos);
    CHECK(result.status().message().find("  ") == std::string::npos);
}

TEST_CASE("clock not trusted")
{
    const Fixture f;
    struct Case {
        const char* name;
        bool refuse;
        const char* now;
        const char* code;  // "" = held for the clock, no session
    };
    const Case cases[] = {
        {"refused when configured so", true, "2026-11-23T09:00:00+01:00", "clock_not_trusted"},
        {"refused even with no open session", true, "2026-11-23T12:45:00+01:00",
         "clock_not_trusted"},
        {"held otherwise, not filed by the untrusted clock", false, "2026-11-23T09:00:00+01:00",
         ""},
        {"held when the untrusted clock sees no session", false, "2026-11-23T12:45:00+01:00", ""},
        {"held when the untrusted clock is on another day", false, "2026-11-24T09:00:00+01:00", ""},
    };
    for (const Case& c : cases) {
        CAPTURE(c.name);
        auto context = f.context(at(c.now));
        context.clock_trusted = false;
        context.refuse_when_clock_untrusted = c.refuse;
        const auto result = ck::admit_checkin(f.badge(), context);
        if (std::string_view(c.code).empty()) {
            REQUIRE(result.is_ok());
            CHECK(result->hold);
            CHECK(result->clock_untrusted);
            CHECK(result->session == nullptr);
            CHECK(result->credential.attendee_id == "ECNR-10427");
        } else {
            REQUIRE_FALSE(result.is_ok());
            CHECK(result.status().code() == c.code);
        }
    }

    SUBCASE("a trusted clock is never refused")
    {
        auto context = f.context(at("2026-11-23T09:00:00+01:00"));
        context.refuse_when_clock_untrusted = true;
        const auto result = ck::admit_checkin(f.badge(), context);
        REQUIRE(result.is_ok());
        CHECK_FALSE(result->clock_untrusted);
        CHECK_FALSE(result->hold);
    }
}

TEST_CASE("admit_session: explicit session or the open one")
{
    const Fixture f;
    const ck::ResolvedSession* am = f.schedule.find("d1-am");
    const ck::ResolvedSession* pm = f.schedule.find("d1-pm");
    REQUIRE(am != nullptr);
    REQUIRE(pm != nullptr);
    struct Case {
        const char* name;
        const ck::ResolvedSession* session;
        const char* now;
        const char* code;  // "" = admitted
        const ck::ResolvedSession* expected;
        bool late;
        bool chosen_by_staff = false;  // else a phone's display token named the session
        bool reason = false;
    };
    const Case cases[] = {
        {"open session", nullptr, "2026-11-23T09:00:00+01:00", "", am, true},
        {"open session, on time", nullptr, "2026-11-23T13:30:00+01:00", "", pm, false},
        {"no open session", nullptr, "2026-11-23T12:45:00+01:00", "no_open_session", nullptr,
         false},
        {"explicit session in its window", am, "2026-11-23T08:40:00+01:00", "", am, false},
        {"explicit session before its window", pm, "2026-11-23T09:00:00+01:00", "", pm, false},
        {"explicit session in its window, after its late mark", am, "2026-11-23T10:00:00+01:00", "",
         am, true},
        {"explicit session after it ended: a correction, not late", am, "2026-11-23T15:00:00+01:00",
         "", am, false},
        {"explicit session when none is open", pm, "2026-11-23T12:45:00+01:00", "", pm, false},
        // Staff choosing by hand: a session that has not started counts for nothing yet, one
        // that is over needs a reason.
        {"staff: the open session", am, "2026-11-23T10:00:00+01:00", "", am, true, true},
        {"staff: a session whose window is open", pm, "2026-11-23T13:00:00+01:00", "", pm, false,
         true},
        {"staff: a session not started", pm, "2026-11-23T09:00:00+01:00", "session_not_started",
         nullptr, false, true, true},
        {"staff: a minute before its window", pm, "2026-11-23T12:59:00+01:00",
         "session_not_started", nullptr, false, true},
        {"staff: a session that is over, no reason", am, "2026-11-23T12:30:00+01:00",
         "reason_required", nullptr, false, true},
        {"staff: a session that is over, with a reason", am, "2026-11-23T15:00:00+01:00", "", am,
         false, true, true},
    };
    for (const Case& c : cases) {
        CAPTURE(c.name);
        const auto result =
            ck::admit_session(f.context(at(c.now)), c.session, c.chosen_by_staff, c.reason);
        if (std::string_view(c.code).empty()) {
            REQUIRE_MESSAGE(result.is_ok(), result.status().message());
            CHECK(result->session == c.expected);
            CHECK(ck::Schedule::is_late(*result->session, at(c.now)) == c.late);
            CHECK_FALSE(result->clock_untrusted);
            CHECK(result->credential.attendee_id.empty());
        } else {
            REQUIRE_FALSE(result.is_ok());
            CHECK(result.status().code() == c.code);
        }
    }

    SUBCASE("an untrusted clock refuses an explicit session too when configured so")
    {
        auto context = f.context(at("2026-11-23T09:00:00+01:00"));
        context.clock_trusted = false;
        context.refuse_when_clock_untrusted = true;
        const auto refused = ck::admit_session(context, am);
        REQUIRE_FALSE(refused.is_ok());
        CHECK(refused.status().code() == "clock_not_trusted");
        context.refuse_when_clock_untrusted = false;
        // Staff's choice needs a reason: the clock cannot tell whether the session took place.
        const auto unexplained = ck::admit_session(context, am, true);
        REQUIRE_FALSE(unexplained.is_ok());
        CHECK(unexplained.status().code() == "reason_required");
        const auto flagged = ck::admit_session(context, am, true, true);
        REQUIRE(flagged.is_ok());
        CHECK(flagged->clock_untrusted);
        CHECK(flagged->session == am);
        CHECK_FALSE(flagged->hold);
        // A session that staff did not choose (the phone's display token) is held.
        const auto held = ck::admit_session(context, am);
        REQUIRE(held.is_ok());
        CHECK(held->hold);
        CHECK(held->session == nullptr);
    }
}

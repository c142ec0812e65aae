#include <doctest/doctest.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cstdint>
#include <string>
#include <vector>

#include "core/phone_token.hpp"

namespace {

constexpr std::string_view kSecret =
    "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0";
constexpr std::string_view kOtherSecret =
    "1f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0";
// 2026-11-23T08:40:00+01:00, a moment of the test module's first session.
constexpr std::int64_t kNow = 1795419600;

// First `digits` hex digits of HMAC-SHA256(secret, message): the MAC construction that
// phone_token.hpp documents, so tests can forge well-MAC'd tokens with malformed fields.
std::string hmac_hex(std::string_view secret, std::string_view message, std::size_t digits)
{
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
         reinterpret_cast<const unsigned char*>(message.data()), message.size(), digest, &length);
    static const char hex[] = "0123456789abcdef";
    std::string out;
    for (unsigned int i = 0; i < length; ++i) {
        out.push_back(hex[digest[i] >> 4]);
        out.push_back(hex[digest[i] & 0x0f]);
    }
    return out.substr(0, digits);
}

// "<slot text>.<session text>.<mac over exactly those texts>".
std::string forged_token(std::string_view slot, std::string_view session)
{
    std::string fields = std::string(slot) + "|" + std::string(session);
    return std::string(slot) + "." + std::string(session) + "." +
           hmac_hex(kSecret, "display|" + fields, 20);
}

// "<id>.<issue>.<expires>.<mac over those texts>" (the cookie's MAC has the "phone|" prefix;
// checked against make_phone_cookie below so a change there cannot make these tests vacuous).
std::string forged_cookie(std::string_view id, std::string_view issue, std::string_view expires)
{
    std::string fields = std::string(id) + "." + std::string(issue) + "." + std::string(expires);
    return fields + "." + hmac_hex(kSecret, "phone|" + fields, 32);
}

// Replaces the character at `index` with another hex digit (or letter).
std::string flip(std::string text, std::size_t index)
{
    text[index] = text[index] == '0' ? '1' : '0';
    return text;
}

}  // namespace

TEST_CASE("token_slot: 30 s slots, floored also before 1970")
{
    struct Case {
        std::int64_t unix_seconds;
        std::int64_t slot;
    };
    const std::vector<Case> cases = {
        {0, 0},
        {1, 0},
        {29, 0},
        {30, 1},
        {31, 1},
        {59, 1},
        {60, 2},
        {89, 2},
        {90, 3},
        {-1, -1},
        {-29, -1},
        {-30, -1},
        {-31, -2},
        {-59, -2},
        {-60, -2},
        {-61, -3},
        {-90, -3},
        {-91, -4},
        {kNow, 59847320},
        {kNow + 29, 59847320},
        {kNow + 30, 59847321},
        {kNow - 1, 59847319},
    };
    for (const auto& c : cases) {
        CAPTURE(c.unix_seconds);
        CHECK(ck::token_slot(c.unix_seconds) == c.slot);
    }
    // Every second of a slot maps to it, and the slot starts at a multiple of 30.
    for (std::int64_t t = -95; t <= 95; ++t) {
        CAPTURE(t);
        std::int64_t slot = ck::token_slot(t);
        CHECK(slot * ck::kTokenSlotSeconds <= t);
        CHECK(t < (slot + 1) * ck::kTokenSlotSeconds);
    }
}

TEST_CASE("display token: the documented form, and make/verify round trip")
{
    const std::string token = ck::make_display_token(kSecret, "d1-am", 59847320);
    CHECK(token == "59847320.d1-am." + hmac_hex(kSecret, "display|59847320|d1-am", 20));

    struct Case {
        std::string session_id;
        std::int64_t slot;
    };
    const std::vector<Case> cases = {
        {"d1-am", 59847320},
        {"d1-am", 0},
        {"d2_pm", 1},
        {"X", 59847321},
        {"d1-am", -5},                // a clock before 1970 still gives a consistent token
        {std::string(64, 's'), 123},  // the longest session id
    };
    for (const auto& c : cases) {
        CAPTURE(c.session_id);
        CAPTURE(c.slot);
        const std::string t = ck::make_display_token(kSecret, c.session_id, c.slot);
        auto parsed = ck::verify_display_token(kSecret, t);
        REQUIRE(parsed.has_value());
        CHECK(parsed->session_id == c.session_id);
        CHECK(parsed->slot == c.slot);
        CHECK_FALSE(ck::verify_display_token(kOtherSecret, t).has_value());
    }
    // Each slot and each session gets its own token.
    CHECK(ck::make_display_token(kSecret, "d1-am", 1) !=
          ck::make_display_token(kSecret, "d1-am", 2));
    CHECK(ck::make_display_token(kSecret, "d1-am", 1) !=
          ck::make_display_token(kSecret, "d1-pm", 1));
}

TEST_CASE("display token: anything but a genuine token is refused")
{
    const std::string good = ck::make_display_token(kSecret, "d1-am", 59847320);
    const std::string mac = good.substr(good.rfind('.') + 1);
    REQUIRE(mac.size() == 20);
    REQUIRE(ck::verify_display_token(kSecret, good).has_value());

    struct Case {
        std::string name;
        std::string token;
    };
    const std::vector<Case> cases = {
        {"empty", ""},
        {"mac changed (first digit)", flip(good, good.size() - 20)},
        {"mac changed (last digit)", flip(good, good.size() - 1)},
        {"mac upper-case", "59847320.d1-am." + std::string(mac.size(), 'A')},
        {"mac truncated", good.substr(0, good.size() - 1)},
        {"mac extended", good + "0"},
        {"mac missing", "59847320.d1-am."},
        {"mac of another slot", "59847321.d1-am." + mac},
        {"mac of another session", "59847320.d1-pm." + mac},
        {"slot changed", flip(good, 7)},
        {"session id changed", "59847320.d2-am." + mac},
        {"extra dot at the end", good + "."},
        {"extra field at the end", good + ".x"},
        {"extra field in front", "1." + good},
        {"leading dot", "." + good},
        {"only dots", ".."},
        {"two fields", "59847320." + mac},
        {"overlong (129 characters)", good + "." + std::string(128 - good.size(), 'a')},
        {"overlong", std::string(4096, 'a')},
        // Well-MAC'd over malformed fields: the parser itself must refuse them.
        {"non-numeric slot", forged_token("abc", "d1-am")},
        {"empty slot", forged_token("", "d1-am")},
        {"slot with a sign", forged_token("+59847320", "d1-am")},
        {"slot with a leading zero", forged_token("059847320", "d1-am")},
        {"slot with a space", forged_token(" 59847320", "d1-am")},
        {"slot with a trailing letter", forged_token("59847320x", "d1-am")},
        {"slot out of range", forged_token("99999999999999999999", "d1-am")},
        {"empty session id", forged_token("59847320", "")},
        {"session id with a space", forged_token("59847320", "d1 am")},
        {"session id with a pipe", forged_token("59847320", "d1|am")},
        {"session id of 65 characters", forged_token("59847320", std::string(65, 's'))},
    };
    for (const auto& c : cases) {
        CAPTURE(c.name);
        CAPTURE(c.token);
        CHECK_FALSE(ck::verify_display_token(kSecret, c.token).has_value());
    }
    CHECK_FALSE(ck::verify_display_token(kOtherSecret, good).has_value());
    CHECK_FALSE(ck::verify_display_token("", good).has_value());
    // The forging helper itself produces accepted tokens from well-formed fields.
    CHECK(ck::verify_display_token(kSecret, forged_token("59847320", "d1-am")).has_value());
}

TEST_CASE("token_fresh: at most kTokenGraceSlots slots old, never from the future")
{
    const ck::DisplayToken token{"d1-am", 59847320};
    const std::int64_t start = 59847320 * ck::kTokenSlotSeconds;  // first second of its slot
    struct Case {
        std::string name;
        std::int64_t now;
        std::int64_t grace;
        bool fresh;
    };
    const std::vector<Case> cases = {
        {"age 0, first second", start, ck::kTokenGraceSlots, true},
        {"age 0, last second", start + 29, ck::kTokenGraceSlots, true},
        {"age 1", start + 30, ck::kTokenGraceSlots, true},
        {"age 1, last second", start + 59, ck::kTokenGraceSlots, true},
        {"age 2", start + 60, ck::kTokenGraceSlots, true},
        {"age 2, last second", start + 89, ck::kTokenGraceSlots, true},
        {"age 3", start + 90, ck::kTokenGraceSlots, false},
        {"age 100", start + 3000, ck::kTokenGraceSlots, false},
        {"one second before its slot", start - 1, ck::kTokenGraceSlots, false},
        {"next-but-one slot in the future", start - 31, ck::kTokenGraceSlots, false},
        {"far future", start - 86400, ck::kTokenGraceSlots, false},
        {"grace 20, age 20", start + 20 * 30 + 29, 20, true},
        {"grace 20, age 21", start + 21 * 30, 20, false},
        {"grace 20, age 3", start + 90, 20, true},
        {"grace 20, future", start - 1, 20, false},
        {"grace 0, age 0", start + 29, 0, true},
        {"grace 0, age 1", start + 30, 0, false},
    };
    for (const auto& c : cases) {
        CAPTURE(c.name);
        CHECK(ck::token_fresh(token, c.now, c.grace) == c.fresh);
    }
    // The default grace is kTokenGraceSlots = 2.
    CHECK(ck::kTokenGraceSlots == 2);
    CHECK(ck::token_fresh(token, start + 89));
    CHECK_FALSE(ck::token_fresh(token, start + 90));
}

TEST_CASE("phone cookie: make/verify round trip, also for ids with dots")
{
    // The forging helper reproduces make_phone_cookie for well-formed fields.
    CHECK(forged_cookie("A002", "1", "1795606200") ==
          ck::make_phone_cookie(kSecret, {"A002", 1, 1795606200}));

    const std::vector<ck::PhoneIdentity> cases = {
        {"A002", 1, kNow + 3600}, {"A.B.C", 1, kNow + 3600},
        {"A.B.C", 7, kNow + 1},   {"ECNR-10427", 65535, kNow + 186600},
        {"x_y-z.", 2, kNow + 10},  // ends in a dot: the fixed fields are read from the end
        {".lead", 3, kNow + 10},  {"a..b", 1, kNow + 10},
    };
    for (const auto& identity : cases) {
        CAPTURE(identity.attendee_id);
        const std::string cookie = ck::make_phone_cookie(kSecret, identity);
        auto parsed = ck::verify_phone_cookie(kSecret, cookie, kNow);
        REQUIRE(parsed.has_value());
        CHECK(parsed->attendee_id == identity.attendee_id);
        CHECK(parsed->issue == identity.issue);
        CHECK(parsed->expires == identity.expires);
        CHECK_FALSE(ck::verify_phone_cookie(kOtherSecret, cookie, kNow).has_value());
    }
}

TEST_CASE("phone cookie: expiry is exclusive")
{
    const std::int64_t expires = kNow + 100;
    const std::string cookie = ck::make_phone_cookie(kSecret, {"A.B.C", 1, expires});
    struct Case {
        std::int64_t now;
        bool valid;
    };
    const std::vector<Case> cases = {
        {kNow, true},         {expires - 1, true},      {expires, false},
        {expires + 1, false}, {expires + 86400, false},
    };
    for (const auto& c : cases) {
        CAPTURE(c.now);
        CHECK(ck::verify_phone_cookie(kSecret, cookie, c.now).has_value() == c.valid);
    }
}

TEST_CASE("phone cookie: tampering with any field, or malformed fields, is refused")
{
    const std::string good = ck::make_phone_cookie(kSecret, {"A.B.C", 2, kNow + 3600});
    const std::string mac = good.substr(good.rfind('.') + 1);
    REQUIRE(mac.size() == 32);
    const std::string expires = std::to_string(kNow + 3600);
    REQUIRE(good == "A.B.C.2." + expires + "." + mac);
    REQUIRE(ck::verify_phone_cookie(kSecret, good, kNow).has_value());

    // 46 characters besides the id with a 10-digit expiry: an id of 154 makes 200 characters.
    const ck::PhoneIdentity longest{std::string(154, 'L'), 1, kNow + 3600};
    const std::string at_limit = ck::make_phone_cookie(kSecret, longest);
    REQUIRE(at_limit.size() == 200);
    CHECK(ck::verify_phone_cookie(kSecret, at_limit, kNow).has_value());

    struct Case {
        std::string name;
        std::string cookie;
    };
    const std::vector<Case> cases = {
        {"empty", ""},
        {"only dots", "..."},
        {"attendee id changed", "A.B.D.2." + expires + "." + mac},
        {"attendee id shortened", "A.B.2." + expires + "." + mac},
        {"attendee id extended", "A.B.C.D.2." + expires + "." + mac},
        {"issue changed", "A.B.C.3." + expires + "." + mac},
        {"issue with a leading zero", "A.B.C.02." + expires + "." + mac},
        {"expiry extended", "A.B.C.2." + std::to_string(kNow + 3601) + "." + mac},
        {"expiry far later", "A.B.C.2.9999999999." + mac},
        {"mac changed (first digit)", flip(good, good.size() - 32)},
        {"mac changed (last digit)", flip(good, good.size() - 1)},
        {"mac upper-case", "A.B.C.2." + expires + "." + std::string(32, 'A')},
        {"mac truncated", good.substr(0, good.size() - 1)},
        {"mac extended", good + "0"},
        {"mac missing", "A.B.C.2." + expires + "."},
        {"mac field missing", "A.B.C.2." + expires},
        {"extra field at the end", good + ".x"},
        {"extra dot at the end", good + "."},
        {"overlong (201 characters)",
         ck::make_phone_cookie(kSecret, {std::string(155, 'L'), 1, kNow + 3600})},
        {"overlong", std::string(4096, 'a')},
        // Well-MAC'd over malformed fields: the parser itself must refuse them.
        {"empty attendee id", forged_cookie("", "1", expires)},
        {"non-numeric issue", forged_cookie("A002", "x", expires)},
        {"empty issue", forged_cookie("A002", "", expires)},
        {"negative issue", forged_cookie("A002", "-1", expires)},
        {"issue out of range", forged_cookie("A002", "65536", expires)},
        {"non-numeric expiry", forged_cookie("A002", "1", "never")},
        {"empty expiry", forged_cookie("A002", "1", "")},
        {"expiry with a sign", forged_cookie("A002", "1", "+" + expires)},
        {"expiry out of range", forged_cookie("A002", "1", "99999999999999999999")},
    };
    for (const auto& c : cases) {
        CAPTURE(c.name);
        CAPTURE(c.cookie);
        CHECK_FALSE(ck::verify_phone_cookie(kSecret, c.cookie, kNow).has_value());
    }
    CHECK_FALSE(ck::verify_phone_cookie(kOtherSecret, good, kNow).has_value());
    CHECK_FALSE(ck::verify_phone_cookie("", good, kNow).has_value());
    // A display token is not a phone cookie, nor the other way round (separate MAC domains).
    const std::string token = ck::make_display_token(kSecret, "d1-am", 59847320);
    CHECK_FALSE(ck::verify_phone_cookie(kSecret, token, kNow).has_value());
    CHECK_FALSE(ck::verify_display_token(kSecret, good).has_value());
}

// The rotating token of the display's QR code, and the signed cookie that remembers a phone.
//
// Display token: "<slot>.<session id>.<mac>", where slot = floor(unix time / 30 s) and
// mac = HMAC-SHA256(secret, "display|" slot "|" session id), first 20 hex digits. A new
// token every 30 s; a token is accepted for kTokenGraceSlots slots after its own, and only
// for the session it names.
//
// Phone cookie: "<attendee id>.<issue>.<expires unix>.<mac>", mac over the same fields.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ck {

inline constexpr std::int64_t kTokenSlotSeconds = 30;
inline constexpr std::int64_t kTokenGraceSlots = 2;

std::int64_t token_slot(std::int64_t unix_seconds);
std::string make_display_token(std::string_view secret, std::string_view session_id,
                               std::int64_t slot);

struct DisplayToken {
    std::string session_id;
    std::int64_t slot = 0;
};
// Parses and checks the MAC; does not check age (see token_fresh).
std::optional<DisplayToken> verify_display_token(std::string_view secret, std::string_view token);
// True when the token's slot is at most `grace_slots` slots old at `unix_seconds`.
bool token_fresh(const DisplayToken& token, std::int64_t unix_seconds,
                 std::int64_t grace_slots = kTokenGraceSlots);

struct PhoneIdentity {
    std::string attendee_id;
    std::uint16_t issue = 1;
    std::int64_t expires = 0;  // unix seconds
};
std::string make_phone_cookie(std::string_view secret, const PhoneIdentity& identity);
// nullopt when malformed, forged or expired at `unix_seconds`.
std::optional<PhoneIdentity> verify_phone_cookie(std::string_view secret, std::string_view cookie,
                                                 std::int64_t unix_seconds);

}  // namespace ck

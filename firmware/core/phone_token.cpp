#include "core/phone_token.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <charconv>
#include <vector>

namespace ck {
namespace {

std::string hmac_hex(std::string_view secret, std::string_view message, std::size_t hex_digits)
{
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
         reinterpret_cast<const unsigned char*>(message.data()), message.size(), digest, &length);
    static const char digits[] = "0123456789abcdef";
    std::string out;
    for (unsigned int i = 0; i < length && out.size() < hex_digits; ++i) {
        out.push_back(digits[digest[i] >> 4]);
        out.push_back(digits[digest[i] & 0x0f]);
    }
    out.resize(hex_digits);
    return out;
}

bool equal(std::string_view a, std::string_view b)
{
    return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::vector<std::string_view> split_dots(std::string_view text)
{
    std::vector<std::string_view> parts;
    std::size_t start = 0;
    for (;;) {
        std::size_t dot = text.find('.', start);
        parts.push_back(text.substr(start, dot == std::string_view::npos ? dot : dot - start));
        if (dot == std::string_view::npos) return parts;
        start = dot + 1;
    }
}

template <class Int>
std::optional<Int> parse_number(std::string_view text)
{
    Int value{};
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc() || end != text.data() + text.size() || text.empty()) {
        return std::nullopt;
    }
    return value;
}

bool plain_id(std::string_view id)
{
    if (id.empty() || id.size() > 64) return false;
    for (char c : id) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '_' || c == '-';
        if (!ok) return false;
    }
    return true;
}

}  // namespace

std::int64_t token_slot(std::int64_t unix_seconds)
{
    return unix_seconds >= 0 ? unix_seconds / kTokenSlotSeconds
                             : (unix_seconds - kTokenSlotSeconds + 1) / kTokenSlotSeconds;
}

std::string make_display_token(std::string_view secret, std::string_view session_id,
                               std::int64_t slot)
{
    std::string fields = std::to_string(slot) + "|" + std::string(session_id);
    return std::to_string(slot) + "." + std::string(session_id) + "." +
           hmac_hex(secret, "display|" + fields, 20);
}

std::optional<DisplayToken> verify_display_token(std::string_view secret, std::string_view token)
{
    if (token.size() > 128) return std::nullopt;
    auto parts = split_dots(token);
    if (parts.size() != 3 || !plain_id(parts[1])) return std::nullopt;
    auto slot = parse_number<std::int64_t>(parts[0]);
    if (!slot) return std::nullopt;
    std::string expected = make_display_token(secret, parts[1], *slot);
    if (!equal(expected, token)) return std::nullopt;
    return DisplayToken{std::string(parts[1]), *slot};
}

bool token_fresh(const DisplayToken& token, std::int64_t unix_seconds, std::int64_t grace_slots)
{
    std::int64_t now = token_slot(unix_seconds);
    return token.slot <= now && now - token.slot <= grace_slots;
}

std::string make_phone_cookie(std::string_view secret, const PhoneIdentity& identity)
{
    std::string fields = identity.attendee_id + "." + std::to_string(identity.issue) + "." +
                         std::to_string(identity.expires);
    return fields + "." + hmac_hex(secret, "phone|" + fields, 32);
}

std::optional<PhoneIdentity> verify_phone_cookie(std::string_view secret, std::string_view cookie,
                                                 std::int64_t unix_seconds)
{
    if (cookie.size() > 200) return std::nullopt;
    auto parts = split_dots(cookie);
    // Attendee ids may contain '.', so read the fixed fields from the end.
    if (parts.size() < 4) return std::nullopt;
    std::string_view mac = parts[parts.size() - 1];
    auto expires = parse_number<std::int64_t>(parts[parts.size() - 2]);
    auto issue = parse_number<std::uint16_t>(parts[parts.size() - 3]);
    std::size_t id_length = cookie.size() - mac.size() - parts[parts.size() - 2].size() -
                            parts[parts.size() - 3].size() - 3;
    std::string_view attendee = cookie.substr(0, id_length);
    if (!expires || !issue || attendee.empty()) return std::nullopt;
    PhoneIdentity identity{std::string(attendee), *issue, *expires};
    if (!equal(make_phone_cookie(secret, identity), cookie)) return std::nullopt;
    if (identity.expires <= unix_seconds) return std::nullopt;
    return identity;
}

}  // namespace ck

#include <doctest/doctest.h>

#include <random>

#include "core/base32.hpp"

namespace {

std::vector<std::uint8_t> bytes_of(std::string_view text) { return {text.begin(), text.end()}; }

}  // namespace

TEST_CASE("base32 encodes the RFC 4648 test vectors, without padding")
{
    struct Case {
        std::string_view plain;
        std::string_view encoded;
    };
    const Case cases[] = {
        {"", ""},
        {"f", "MY"},
        {"fo", "MZXQ"},
        {"foo", "MZXW6"},
        {"foob", "MZXW6YQ"},
        {"fooba", "MZXW6YTB"},
        {"foobar", "MZXW6YTBOI"},
    };
    for (const Case& c : cases) {
        CAPTURE(c.plain);
        CHECK(ck::base32_encode(bytes_of(c.plain)) == c.encoded);
        const auto decoded = ck::base32_decode(c.encoded);
        REQUIRE(decoded.has_value());
        CHECK(*decoded == bytes_of(c.plain));
    }
}

TEST_CASE("base32 round-trips every byte value and every length")
{
    std::mt19937 rng(4648);
    std::uniform_int_distribution<int> byte(0, 255);
    for (std::size_t length = 0; length < 200; ++length) {
        std::vector<std::uint8_t> bytes(length);
        for (auto& b : bytes) b = static_cast<std::uint8_t>(byte(rng));
        const std::string text = ck::base32_encode(bytes);
        CHECK(text.size() == (length * 8 + 4) / 5);
        CHECK(ck::base32_decode(text) == bytes);
    }
    std::vector<std::uint8_t> all(256);
    for (std::size_t i = 0; i < all.size(); ++i) all[i] = static_cast<std::uint8_t>(i);
    CHECK(ck::base32_decode(ck::base32_encode(all)) == all);
}

TEST_CASE("base32 refuses what no encoder writes")
{
    const std::string_view refused[] = {
        "mzxw6",      // lower case
        "MZXw6",      // one lower-case character
        "MY======",   // padding
        "MZXW6YQ=",   // padding
        "MZXW6YT0",   // '0' is not in the alphabet
        "MZXW6YT1",   // '1'
        "MZXW6YT8",   // '8'
        "MZXW6YT9",   // '9'
        "MZ XW6",     // space inside
        "MZXW6\n",    // whitespace is the caller's to trim
        "MZ",         // "f" is "MY": the last 2 bits of 'Z' are not zero
        "MZXR",       // "fo" is "MZXQ": trailing bit set
        "MZXW7",      // "foo" is "MZXW6": trailing bit set
        "M",          // 1 character: a length no encoder produces
        "MZX",        // 3 characters
        "MZXW6Y",     // 6 characters
        "MZXW6YTBM",  // 9 characters
    };
    for (std::string_view text : refused) {
        CAPTURE(text);
        CHECK_FALSE(ck::base32_decode(text).has_value());
    }
    CHECK_FALSE(ck::base32_decode(std::string_view("MZ\0W6", 5)).has_value());
    CHECK_FALSE(ck::base32_decode("MZXW6\xC3\x84").has_value());
}

TEST_CASE("base32 output uses only QR alphanumeric characters")
{
    std::vector<std::uint8_t> all(256);
    for (std::size_t i = 0; i < all.size(); ++i) all[i] = static_cast<std::uint8_t>(i);
    const std::string_view qr_alphanumeric = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";
    for (char c : ck::base32_encode(all)) {
        CHECK(qr_alphanumeric.find(c) != std::string_view::npos);
    }
}

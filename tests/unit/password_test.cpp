#include <doctest/doctest.h>

#include <regex>
#include <set>
#include <string>
#include <vector>

#include "core/password.hpp"

namespace {

// N = 1024 keeps each hash to a few milliseconds; the production default is 2^14.
constexpr ck::ScryptCost kFast{.log2_n = 10, .r = 8, .p = 1};

std::vector<std::string> split(const std::string& text, char sep)
{
    std::vector<std::string> parts;
    std::size_t start = 0;
    for (;;) {
        std::size_t end = text.find(sep, start);
        parts.push_back(text.substr(start, end == std::string::npos ? end : end - start));
        if (end == std::string::npos) return parts;
        start = end + 1;
    }
}

std::string join(const std::vector<std::string>& parts)
{
    std::string out;
    for (std::size_t i = 0; i < parts.size(); ++i) {
        if (i > 0) out += "$";
        out += parts[i];
    }
    return out;
}

// The stored form with field `index` replaced by `value`.
std::string with_field(const std::string& stored, std::size_t index, const std::string& value)
{
    auto parts = split(stored, '$');
    parts.at(index) = value;
    return join(parts);
}

bool lower_hex(const std::string& text) { return std::regex_match(text, std::regex("[0-9a-f]*")); }

}  // namespace

TEST_CASE("hash_password: the stored form, and verify_password accepts the password")
{
    const std::vector<std::string> passwords = {
        "correct horse battery",
        "12345678",
        "",
        "pässwörd with ümlauts",
        std::string("nul\0inside", 10),
        std::string(1000, 'p'),
        "trailing space ",
    };
    for (const auto& password : passwords) {
        CAPTURE(password);
        const std::string stored = ck::hash_password(password, kFast);
        CHECK(std::regex_match(stored,
                               std::regex(R"(scrypt\$10\$8\$1\$[0-9a-f]{32}\$[0-9a-f]{64})")));
        CHECK(ck::verify_password(password, stored));
    }
}

TEST_CASE("hash_password: the default cost is stored and verifies")
{
    const std::string stored = ck::hash_password("default cost password");
    CHECK(stored.rfind("scrypt$14$8$1$", 0) == 0);
    CHECK(ck::verify_password("default cost password", stored));
    CHECK_FALSE(ck::verify_password("default cost passwort", stored));
}

TEST_CASE("verify_password: a wrong password is refused")
{
    const std::string stored = ck::hash_password("correct horse battery", kFast);
    const std::vector<std::string> wrong = {
        "", "correct horse batter", "correct horse battery ", " correct horse battery",
        "Correct horse battery", "CORRECT HORSE BATTERY", "correct horse batterz",
        // A NUL in place of the space. (Not a trailing NUL: scrypt keys PBKDF2-HMAC with the
        // password, and HMAC pads short keys with zeros, so "x" and "x\0" are one password.)
        std::string("correct\0horse battery", 21),
        stored,  // the stored string itself is no password
    };
    for (const auto& password : wrong) {
        CAPTURE(password);
        CHECK_FALSE(ck::verify_password(password, stored));
    }
}

TEST_CASE("hash_password: a fresh salt every time")
{
    const std::string a = ck::hash_password("same password", kFast);
    const std::string b = ck::hash_password("same password", kFast);
    CHECK(a != b);
    CHECK(split(a, '$').at(4) != split(b, '$').at(4));  // the salts differ
    CHECK(split(a, '$').at(5) != split(b, '$').at(5));  // and so do the hashes
    CHECK(ck::verify_password("same password", a));
    CHECK(ck::verify_password("same password", b));
}

TEST_CASE("verify_password: malformed stored strings are refused, never a crash")
{
    const std::string password = "correct horse battery";
    const std::string good = ck::hash_password(password, kFast);
    REQUIRE(ck::verify_password(password, good));
    const auto parts = split(good, '$');
    REQUIRE(parts.size() == 6);
    const std::string& salt = parts[4];
    const std::string& hash = parts[5];

    struct Case {
        std::string name;
        std::string stored;
    };
    const std::vector<Case> cases = {
        {"empty", ""},
        {"only the prefix", "scrypt"},
        {"only separators", "$$$$$"},
        {"many separators", std::string(100, '$')},
        // Prefix.
        {"prefix upper-case", with_field(good, 0, "SCRYPT")},
        {"prefix bcrypt", with_field(good, 0, "bcrypt")},
        {"prefix empty", with_field(good, 0, "")},
        {"prefix with a space", with_field(good, 0, "scrypt ")},
        {"no prefix", good.substr(good.find('$'))},
        {"no prefix or separator", good.substr(good.find('$') + 1)},
        // log2 N.
        {"log2 N empty", with_field(good, 1, "")},
        {"log2 N not a number", with_field(good, 1, "ten")},
        {"log2 N negative", with_field(good, 1, "-10")},
        {"log2 N with a plus sign", with_field(good, 1, "+10")},
        {"log2 N with a space", with_field(good, 1, " 10")},
        {"log2 N hex", with_field(good, 1, "0xa")},
        {"log2 N fractional", with_field(good, 1, "10.0")},
        {"log2 N overlong", with_field(good, 1, "0010")},
        {"log2 N huge", with_field(good, 1, "99999999999999999999")},
        {"log2 N below range", with_field(good, 1, "9")},
        {"log2 N zero", with_field(good, 1, "0")},
        {"log2 N above range", with_field(good, 1, "23")},
        {"log2 N far above range", with_field(good, 1, "64")},
        {"log2 N another valid cost", with_field(good, 1, "11")},
        // r.
        {"r empty", with_field(good, 2, "")},
        {"r zero", with_field(good, 2, "0")},
        {"r above range", with_field(good, 2, "33")},
        {"r not a number", with_field(good, 2, "r")},
        {"r negative", with_field(good, 2, "-8")},
        {"r another valid value", with_field(good, 2, "9")},
        // p.
        {"p empty", with_field(good, 3, "")},
        {"p zero", with_field(good, 3, "0")},
        {"p above range", with_field(good, 3, "17")},
        {"p not a number", with_field(good, 3, "one")},
        {"p another valid value", with_field(good, 3, "2")},
        // Salt.
        {"salt odd length", with_field(good, 4, salt.substr(1))},
        {"salt not hex", with_field(good, 4, "zz" + salt.substr(2))},
        {"salt with a space", with_field(good, 4, " " + salt.substr(1))},
        {"salt empty", with_field(good, 4, "")},
        {"salt changed", with_field(good, 4, (salt[0] == '0' ? "1" : "0") + salt.substr(1))},
        // Hash.
        {"hash empty", with_field(good, 5, "")},
        {"hash odd length", with_field(good, 5, hash.substr(1))},
        {"hash not hex", with_field(good, 5, "g" + hash.substr(1))},
        {"hash too short", with_field(good, 5, hash.substr(2))},
        {"hash too long", with_field(good, 5, hash + "00")},
        {"hash twice as long", with_field(good, 5, hash + hash)},
        {"hash changed", with_field(good, 5, (hash[0] == '0' ? "1" : "0") + hash.substr(1))},
        // Missing fields.
        {"no hash field", join({parts[0], parts[1], parts[2], parts[3], parts[4]})},
        {"no hash, trailing separator",
         join({parts[0], parts[1], parts[2], parts[3], parts[4]}) + "$"},
        {"no salt field", join({parts[0], parts[1], parts[2], parts[3], parts[5]})},
        {"no p field", join({parts[0], parts[1], parts[2], parts[4], parts[5]})},
        {"no cost fields", join({parts[0], parts[4], parts[5]})},
        // Trailing fields (the stored form has exactly six).
        {"trailing separator", good + "$"},
        {"trailing field", good + "$extra"},
        {"trailing copy of the hash", good + "$" + hash},
        {"trailing copy of the whole", good + "$" + good},
        // Other damage.
        {"leading space", " " + good},
        {"trailing space", good + " "},
        {"trailing newline", good + "\n"},
        {"nul inside", good.substr(0, 7) + std::string(1, '\0') + good.substr(7)},
    };
    for (const auto& c : cases) {
        CAPTURE(c.name);
        CAPTURE(c.stored);
        // Even the right password must not open a malformed or tampered stored hash.
        CHECK_FALSE(ck::verify_password(password, c.stored));
        CHECK_FALSE(ck::verify_password("wrong password", c.stored));
    }
}

TEST_CASE("sha256_hex: standard test vectors")
{
    struct Case {
        std::string input;
        std::string digest;
    };
    const std::vector<Case> cases = {
        {"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
        {"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
        {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
         "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
        {std::string(1000000, 'a'),
         "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"},
    };
    for (const auto& c : cases) {
        CAPTURE(c.input.size());
        CHECK(ck::sha256_hex(c.input) == c.digest);
    }
}

TEST_CASE("random_hex: 2 lower-case hex digits per byte, and different every time")
{
    for (std::size_t bytes :
         {std::size_t{0}, std::size_t{1}, std::size_t{16}, std::size_t{32}, std::size_t{100}}) {
        CAPTURE(bytes);
        const std::string text = ck::random_hex(bytes);
        CHECK(text.size() == 2 * bytes);
        CHECK(lower_hex(text));
    }
    std::set<std::string> seen;
    for (int i = 0; i < 200; ++i) seen.insert(ck::random_hex(16));
    CHECK(seen.size() == 200);
    // Not stuck on one digit: 200 x 32 digits use every hex digit.
    std::set<char> digits;
    for (const auto& s : seen) digits.insert(s.begin(), s.end());
    CHECK(digits.size() == 16);
}

#include <doctest/doctest.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include <cctype>
#include <random>
#include <stdexcept>

#include "core/base32.hpp"
#include "core/credential.hpp"

namespace {

// The worked example of docs/credential.md: the private key of RFC 8032, section 7.1,
// test 1 (seed 9d61b19d...7f60). Ed25519 signatures are deterministic, so the text is too.
constexpr std::string_view kExamplePem =
    "-----BEGIN PRIVATE KEY-----\n"
    "MC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g\n"
    "-----END PRIVATE KEY-----\n";
constexpr std::string_view kExampleText =
    "AEQ74MO7BZSWG3TSFUZDAMRWFUZC23JTBJCUGTSSFUYTANBSG4AACXVYFBQA2DFJXLK6UYCFFJ44YGKYNTPDL4XEVBB3EN"
    "O3NX33Z4FWF22WDJ2TSPSZ7X7PAI3NAYZVHBGM56RMF3AJ7TYB6N3N2MSLXYCA";

std::vector<std::uint8_t> from_hex(std::string_view hex)
{
    std::vector<std::uint8_t> out;
    for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
        out.push_back(
            static_cast<std::uint8_t>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
    }
    return out;
}

ck::SigningKey example_key()
{
    auto key = ck::SigningKey::from_pem(kExamplePem);
    REQUIRE(key.has_value());
    return *key;
}

ck::TrustedKeys trust(const ck::SigningKey& key) { return {{key.key_id(), key.public_key()}}; }

ck::Credential typical()
{
    return {.key_id = 0, .module_id = "ecnr-2026-2-m3", .attendee_id = "ECNR-10427", .issue = 1};
}

// Signs arbitrary bytes the way a version-1 credential is signed, so that tests can build
// credentials that break exactly one field rule and carry a valid signature.
std::string sign_raw(const ck::SigningKey& key, std::vector<std::uint8_t> body)
{
    const std::string pem = key.to_pem();
    BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
    EVP_PKEY* pkey = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
    BIO_free(bio);
    REQUIRE(pkey != nullptr);
    const std::string_view context{"course-kiosk credential v1\0", 27};
    std::vector<std::uint8_t> message(context.begin(), context.end());
    message.insert(message.end(), body.begin(), body.end());
    std::uint8_t signature[64];
    std::size_t length = sizeof signature;
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    const bool ok = EVP_DigestSignInit(ctx, nullptr, nullptr, nullptr, pkey) == 1 &&
                    EVP_DigestSign(ctx, signature, &length, message.data(), message.size()) == 1;
    EVP_MD_CTX_free(ctx);
    EVP_PKEY_free(pkey);
    REQUIRE(ok);
    body.insert(body.end(), signature, signature + length);
    return ck::base32_encode(body);
}

// Version-1 body bytes with free-form fields (no validation: tests break rules on purpose).
std::vector<std::uint8_t> body_bytes(std::uint8_t version, std::uint32_t key_id,
                                     std::string_view module_id, std::string_view attendee_id,
                                     std::uint16_t issue)
{
    std::vector<std::uint8_t> b{
        version, static_cast<std::uint8_t>(key_id >> 24), static_cast<std::uint8_t>(key_id >> 16),
        static_cast<std::uint8_t>(key_id >> 8), static_cast<std::uint8_t>(key_id)};
    b.push_back(static_cast<std::uint8_t>(module_id.size()));
    b.insert(b.end(), module_id.begin(), module_id.end());
    b.push_back(static_cast<std::uint8_t>(attendee_id.size()));
    b.insert(b.end(), attendee_id.begin(), attendee_id.end());
    b.push_back(static_cast<std::uint8_t>(issue >> 8));
    b.push_back(static_cast<std::uint8_t>(issue));
    return b;
}

void check_refused(const ck::Result<ck::Credential>& result)
{
    REQUIRE_FALSE(result.is_ok());
    CHECK(result.status().code() == "invalid_credential");
    CHECK_FALSE(result.status().message().empty());
    CHECK_FALSE(result.status().hint().empty());
}

}  // namespace

TEST_CASE("key ids are 8 lower-case hex digits")
{
    CHECK(ck::key_id_hex(0) == "00000000");
    CHECK(ck::key_id_hex(0x1a2b3c4d) == "1a2b3c4d");
    CHECK(ck::key_id_hex(0xffffffff) == "ffffffff");
    CHECK(ck::parse_key_id_hex("1a2b3c4d") == 0x1a2b3c4dU);
    CHECK(ck::parse_key_id_hex("1A2B3C4D") == 0x1a2b3c4dU);
    CHECK(ck::parse_key_id_hex("ffffffff") == 0xffffffffU);
    for (std::string_view bad : {"", "1a2b3c4", "1a2b3c4d5", "1a2b3c4g", " 1a2b3c4", "0x1a2b3c"}) {
        CAPTURE(bad);
        CHECK_FALSE(ck::parse_key_id_hex(bad).has_value());
    }
}

TEST_CASE("the worked example of docs/credential.md")
{
    const ck::SigningKey key = example_key();
    const auto expected_public =
        from_hex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
    const ck::PublicKey public_key = key.public_key();
    CHECK(std::vector<std::uint8_t>(public_key.begin(), public_key.end()) == expected_public);
    CHECK(ck::derive_key_id(public_key) == 0x21fe31dfU);  // SHA-256 starts 21fe31df
    CHECK(key.key_id() == 0x21fe31dfU);

    const std::string text = key.issue(typical());
    CHECK(text == kExampleText);
    const auto bytes = ck::base32_decode(text);
    REQUIRE(bytes.has_value());
    CHECK(bytes->size() == 97);
    const auto body = from_hex(
        "0121fe31df0e65636e722d323032362d322d6d330a45434e522d3130343237"
        "0001");
    CHECK(std::vector<std::uint8_t>(bytes->begin(), bytes->begin() + 33) == body);
}

TEST_CASE("an issued credential verifies and round-trips its fields")
{
    const ck::SigningKey key = ck::SigningKey::generate();
    ck::Credential in = typical();
    in.key_id = 12345;  // replaced by the key's id
    in.issue = 7;
    const std::string text = key.issue(in);
    CHECK(text.size() == 156);

    for (const std::string& scanned : {text, text + "\r\n", " \t" + text + "\n", "\n" + text}) {
        const auto out = ck::verify_credential(scanned, trust(key));
        REQUIRE(out.is_ok());
        CHECK(out->key_id == key.key_id());
        CHECK(out->module_id == in.module_id);
        CHECK(out->attendee_id == in.attendee_id);
        CHECK(out->issue == 7);
    }
    const auto unverified = ck::decode_credential_unverified(text);
    REQUIRE(unverified.is_ok());
    CHECK(unverified->attendee_id == in.attendee_id);
}

TEST_CASE("credentials at the field limits verify")
{
    const ck::SigningKey key = ck::SigningKey::generate();
    const ck::Credential cases[] = {
        {0, "m", "A", 1},
        {0, std::string(32, 'z'), std::string(64, '9'), 65535},
        {0, "abcdefghijklmnopqrstuvwxyz-01234", "ABCXYZabcxyz0189._-", 2},
    };
    for (const ck::Credential& c : cases) {
        CAPTURE(c.attendee_id);
        const auto out = ck::verify_credential(key.issue(c), trust(key));
        REQUIRE(out.is_ok());
        CHECK(out->module_id == c.module_id);
        CHECK(out->attendee_id == c.attendee_id);
        CHECK(out->issue == c.issue);
    }
}

TEST_CASE("a maximal credential is 169 bytes, 271 characters, within QR version 10 at ECC M")
{
    const ck::SigningKey key = ck::SigningKey::generate();
    const std::string text = key.issue({0, std::string(32, 'm'), std::string(64, 'A'), 65535});
    CHECK(1 + 4 + 1 + 32 + 1 + 64 + 2 + 64 == 169);
    CHECK(text.size() == (169 * 8 + 4) / 5);
    CHECK(text.size() == 271);
    CHECK(text.size() <= 311);  // alphanumeric capacity of version 10 at ECC M
    // One character more than the maximum is refused before decoding.
    check_refused(ck::verify_credential(text + "A", trust(key)));
}

TEST_CASE("issue refuses invalid fields: a usage error of the caller")
{
    const ck::SigningKey key = ck::SigningKey::generate();
    const ck::Credential bad[] = {
        {0, "", "A1", 1},
        {0, std::string(33, 'm'), "A1", 1},
        {0, "ECNR-2026-2-M3", "A1", 1},
        {0, "ecnr_2026", "A1", 1},
        {0, "ecnr 2026", "A1", 1},
        {0, "ecnr-2026-2-m3", "", 1},
        {0, "ecnr-2026-2-m3", std::string(65, 'A'), 1},
        {0, "ecnr-2026-2-m3", "Anne Marie", 1},
        {0, "ecnr-2026-2-m3", "M\xC3\xBCller", 1},
        {0, "ecnr-2026-2-m3", "a/b", 1},
        {0, "ecnr-2026-2-m3", "A1", 0},
    };
    for (const ck::Credential& c : bad) {
        CAPTURE(c.module_id);
        CAPTURE(c.attendee_id);
        CHECK_THROWS_AS(key.issue(c), std::invalid_argument);
    }
    CHECK_THROWS_AS(ck::SigningKey{}.issue(typical()), std::logic_error);
}

TEST_CASE("verification refuses a wrong key, an unknown key id and inner whitespace")
{
    const ck::SigningKey key = ck::SigningKey::generate();
    const ck::SigningKey other = ck::SigningKey::generate();
    const std::string text = key.issue(typical());

    SUBCASE("unknown key id")
    {
        const auto result = ck::verify_credential(text, trust(other));
        check_refused(result);
        CHECK(result.status().message().find("trusted key") != std::string::npos);
        check_refused(ck::verify_credential(text, {}));
    }
    SUBCASE("the key id is trusted but names another public key")
    {
        check_refused(ck::verify_credential(text, {{key.key_id(), other.public_key()}}));
    }
    SUBCASE("a key with an assigned id")
    {
        const ck::SigningKey assigned = other.with_key_id(0x00c0ffee);
        const std::string signed_text = assigned.issue(typical());
        const auto ok = ck::verify_credential(signed_text, {{0x00c0ffee, other.public_key()}});
        REQUIRE(ok.is_ok());
        CHECK(ok->key_id == 0x00c0ffeeU);
        check_refused(ck::verify_credential(signed_text, trust(other)));  // derived id: unknown
    }
    SUBCASE("inner whitespace, empty")
    {
        check_refused(
            ck::verify_credential(text.substr(0, 50) + " " + text.substr(50), trust(key)));
        check_refused(ck::verify_credential("", trust(key)));
        check_refused(ck::verify_credential(" \r\n\t", trust(key)));
    }
}

TEST_CASE("lower and mixed case read as the printed code; the signature still decides")
{
    const ck::SigningKey key = example_key();
    const ck::SigningKey other = ck::SigningKey::generate();
    const std::string text(kExampleText);
    std::string lower = text;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string mixed = text;  // every other letter in lower case
    for (std::size_t i = 0; i < mixed.size(); i += 2) {
        mixed[i] = static_cast<char>(std::tolower(static_cast<unsigned char>(mixed[i])));
    }
    REQUIRE(lower != text);
    REQUIRE(mixed != text);

    const ck::CredentialVerifier verifier(trust(key));
    for (const std::string& scanned : {lower, mixed, lower + "\r\n", " " + mixed + "\t"}) {
        CAPTURE(scanned);
        for (const auto& out :
             {ck::verify_credential(scanned, trust(key)), verifier.verify(scanned),
              ck::decode_credential_unverified(scanned)}) {
            REQUIRE(out.is_ok());
            CHECK(out->key_id == 0x21fe31dfU);
            CHECK(out->module_id == "ecnr-2026-2-m3");
            CHECK(out->attendee_id == "ECNR-10427");  // the fields keep their own case
            CHECK(out->issue == 1);
        }
    }
    // Lower case changes nothing else: an untrusted key, a changed character and a text no
    // encoder writes are refused as they are in upper case.
    check_refused(ck::verify_credential(lower, trust(other)));
    std::string tampered = lower;
    tampered[40] = tampered[40] == 'a' ? 'b' : 'a';
    check_refused(ck::verify_credential(tampered, trust(key)));
    check_refused(verifier.verify(tampered));
    check_refused(ck::verify_credential(lower + "a", trust(key)));
    check_refused(ck::verify_credential(lower.substr(0, lower.size() - 1), trust(key)));
    // Only ASCII letters fold: base32's digits and other characters are not case pairs.
    check_refused(
        ck::verify_credential(lower.substr(0, 10) + "\xC3\xA9" + lower.substr(12), trust(key)));
}

TEST_CASE("verification refuses each broken field rule even under a valid signature")
{
    const ck::SigningKey key = ck::SigningKey::generate();
    const std::uint32_t id = key.key_id();
    struct Case {
        const char* what;
        std::vector<std::uint8_t> body;
    };
    std::vector<Case> cases = {
        {"version 0", body_bytes(0, id, "ecnr-2026-2-m3", "A1", 1)},
        {"version 2", body_bytes(2, id, "ecnr-2026-2-m3", "A1", 1)},
        {"empty module id", body_bytes(1, id, "", "A1", 1)},
        {"module id of 33", body_bytes(1, id, std::string(33, 'm'), "A1", 1)},
        {"upper-case module id", body_bytes(1, id, "ECNR-2026-2-M3", "A1", 1)},
        {"module id with NUL", body_bytes(1, id, std::string("ecnr\0x", 6), "A1", 1)},
        {"empty attendee id", body_bytes(1, id, "ecnr-2026-2-m3", "", 1)},
        {"attendee id of 65", body_bytes(1, id, "ecnr-2026-2-m3", std::string(65, 'A'), 1)},
        {"attendee id with space", body_bytes(1, id, "ecnr-2026-2-m3", "A 1", 1)},
        {"attendee id with non-ASCII", body_bytes(1, id, "ecnr-2026-2-m3", "\xC3\x84", 1)},
        {"issue 0", body_bytes(1, id, "ecnr-2026-2-m3", "A1", 0)},
    };
    const auto valid = body_bytes(1, id, "ecnr-2026-2-m3", "A1", 1);
    REQUIRE(ck::verify_credential(sign_raw(key, valid), trust(key)).is_ok());
    for (const Case& c : cases) {
        CAPTURE(c.what);
        check_refused(ck::verify_credential(sign_raw(key, c.body), trust(key)));
        check_refused(ck::decode_credential_unverified(sign_raw(key, c.body)));
    }
    // Bytes after the signature, though the signed part is intact.
    auto text_bytes = *ck::base32_decode(sign_raw(key, valid));
    text_bytes.push_back(0);
    check_refused(ck::verify_credential(ck::base32_encode(text_bytes), trust(key)));
    // A signature that covers the trailing byte as part of the body.
    auto longer = valid;
    longer.push_back(0);
    check_refused(ck::verify_credential(sign_raw(key, longer), trust(key)));
}

TEST_CASE("every mutation, truncation, extension and random input is refused without a crash")
{
    const ck::SigningKey key = ck::SigningKey::generate();
    const ck::TrustedKeys keys = trust(key);
    const std::string text = key.issue(typical());
    const std::vector<std::uint8_t> bytes = *ck::base32_decode(text);
    std::size_t refused = 0;
    auto expect_refused = [&](std::string_view input) {
        const auto result = ck::verify_credential(input, keys);
        if (result.is_ok() || result.status().code() != "invalid_credential") {
            FAIL_CHECK("accepted or wrong code for input: " << std::string(input));
        }
        ++refused;
    };

    // Every byte, replaced by each of the other 255 values.
    for (std::size_t i = 0; i < bytes.size(); ++i) {
        for (int delta = 1; delta < 256; ++delta) {
            auto mutated = bytes;
            mutated[i] = static_cast<std::uint8_t>(mutated[i] ^ delta);
            expect_refused(ck::base32_encode(mutated));
        }
    }
    // Every character, replaced by each other base32 character and by some never valid.
    const std::string replacements = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567abz0189=+/ -_.";
    for (std::size_t i = 0; i < text.size(); ++i) {
        for (char r : replacements) {
            // The character itself, or its lower case (the same character to a reader).
            if (std::toupper(static_cast<unsigned char>(r)) == text[i]) continue;
            std::string mutated = text;
            mutated[i] = r;
            expect_refused(mutated);
        }
        std::string with_nul = text;
        with_nul[i] = '\0';
        expect_refused(with_nul);
        expect_refused(text.substr(0, i) + text.substr(i + 1));    // deleted
        expect_refused(text.substr(0, i) + "A" + text.substr(i));  // inserted
    }
    // Every truncation and extension of the bytes.
    for (std::size_t n = 0; n < bytes.size(); ++n) {
        expect_refused(
            ck::base32_encode({bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(n)}));
    }
    for (std::size_t extra = 1; extra <= 80; ++extra) {
        auto extended = bytes;
        extended.resize(bytes.size() + extra, static_cast<std::uint8_t>(extra));
        expect_refused(ck::base32_encode(extended));
    }
    // Random texts, random bytes, and random bytes behind a plausible header.
    std::mt19937 rng(20261123);
    std::uniform_int_distribution<int> any_byte(0, 255);
    std::uniform_int_distribution<std::size_t> length(0, 300);
    for (int round = 0; round < 3000; ++round) {
        std::string random_text(length(rng), '\0');
        for (char& c : random_text) c = static_cast<char>(any_byte(rng));
        expect_refused(random_text);

        std::vector<std::uint8_t> random_bytes(length(rng) % 180);
        for (auto& b : random_bytes) b = static_cast<std::uint8_t>(any_byte(rng));
        expect_refused(ck::base32_encode(random_bytes));

        // Same header as the valid credential, then random lengths and contents.
        std::vector<std::uint8_t> plausible(bytes.begin(), bytes.begin() + 5);
        const std::size_t tail = length(rng) % 170;
        for (std::size_t k = 0; k < tail; ++k) {
            plausible.push_back(
                static_cast<std::uint8_t>(k == 0 ? any_byte(rng) % 40 : any_byte(rng)));
        }
        expect_refused(ck::base32_encode(plausible));
    }
    CHECK(refused > 30000);
    CHECK(ck::verify_credential(text, keys).is_ok());
}

TEST_CASE("PEM keys")
{
    SUBCASE("a round trip keeps the key")
    {
        const ck::SigningKey key = ck::SigningKey::generate();
        const std::string pem = key.to_pem();
        CHECK(pem.rfind("-----BEGIN PRIVATE KEY-----\n", 0) == 0);
        const auto loaded = ck::SigningKey::from_pem(pem);
        REQUIRE(loaded.has_value());
        CHECK(loaded->public_key() == key.public_key());
        CHECK(loaded->key_id() == key.key_id());
        CHECK(loaded->to_pem() == pem);
        CHECK(ck::verify_credential(loaded->issue(typical()), trust(key)).is_ok());
        CHECK(example_key().to_pem() == kExamplePem);
    }
    SUBCASE("anything but an Ed25519 private key is refused")
    {
        CHECK_FALSE(ck::SigningKey::from_pem("").has_value());
        CHECK_FALSE(ck::SigningKey::from_pem("not a key").has_value());
        CHECK_FALSE(ck::SigningKey::from_pem(kExamplePem.substr(0, 60)).has_value());
        // The public half of the example key.
        CHECK_FALSE(ck::SigningKey::from_pem(
                        "-----BEGIN PUBLIC KEY-----\n"
                        "MCowBQYDK2VwAyEA11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=\n"
                        "-----END PUBLIC KEY-----\n")
                        .has_value());
        // An X25519 key: the right size, the wrong algorithm.
        CHECK_FALSE(ck::SigningKey::from_pem(
                        "-----BEGIN PRIVATE KEY-----\n"
                        "MC4CAQAwBQYDK2VuBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g\n"
                        "-----END PRIVATE KEY-----\n")
                        .has_value());
    }
    SUBCASE("an encrypted key is refused without asking for a password")
    {
        const std::string pem = example_key().to_pem();
        BIO* in = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
        EVP_PKEY* pkey = PEM_read_bio_PrivateKey(in, nullptr, nullptr, nullptr);
        BIO_free(in);
        REQUIRE(pkey != nullptr);
        BIO* out = BIO_new(BIO_s_mem());
        char password[] = "secret";
        REQUIRE(PEM_write_bio_PKCS8PrivateKey(out, pkey, EVP_aes_256_cbc(), password, 6, nullptr,
                                              nullptr) == 1);
        std::string encrypted(static_cast<std::size_t>(BIO_pending(out)), '\0');
        BIO_read(out, encrypted.data(), static_cast<int>(encrypted.size()));
        BIO_free(out);
        EVP_PKEY_free(pkey);
        CHECK(encrypted.find("ENCRYPTED") != std::string::npos);
        CHECK_FALSE(ck::SigningKey::from_pem(encrypted).has_value());
    }
}

TEST_CASE("the device's verifier remembers good credentials, never bad ones, per key set")
{
    const ck::SigningKey key = ck::SigningKey::generate();
    const ck::SigningKey other = ck::SigningKey::generate();
    const std::string text = key.issue(typical());
    std::string forged = text;
    forged[20] = forged[20] == 'A' ? 'B' : 'A';  // inside the attendee id: signature fails

    const ck::CredentialVerifier verifier(trust(key), 4);
    for (int round = 0; round < 3; ++round) {  // the second and third answers come from memory
        const auto ok = verifier.verify(text);
        REQUIRE(ok.is_ok());
        CHECK(ok->attendee_id == "ECNR-10427");
        check_refused(verifier.verify(forged));
    }
    // More texts than the cache holds: the cache starts again and answers stay right.
    for (int i = 0; i < 10; ++i) {
        ck::Credential c = typical();
        c.attendee_id = "ECNR-" + std::to_string(i);
        const auto out = verifier.verify(key.issue(c));
        REQUIRE(out.is_ok());
        CHECK(out->attendee_id == c.attendee_id);
    }
    CHECK(verifier.verify(text).is_ok());
    // Another key set is another verifier: what the first one verified does not carry over.
    const ck::CredentialVerifier rotated(trust(other));
    check_refused(rotated.verify(text));
    CHECK(rotated.keys().count(other.key_id()) == 1);
}

// Staff passwords: scrypt (memory-hard) through OpenSSL.
//
// Stored form: "scrypt$<log2 N>$<r>$<p>$<salt hex>$<hash hex>", so the cost can be raised
// later without breaking existing accounts.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "core/status.hpp"

namespace ck {

// The one rule for a new password (the command line's and the dashboard's): at least this
// many characters (bytes of UTF-8). Length, not character classes, is what resists guessing.
inline constexpr std::size_t kMinPasswordLength = 8;
inline constexpr std::size_t kMaxPasswordLength = 1024;

// A staff user name: 1 to 64 letters, digits, '.', '_' or '-' (invalid_staff).
Status check_staff_username(const std::string& username);
// A new password: kMinPasswordLength to kMaxPasswordLength bytes (weak_password).
Status check_new_password(const std::string& password);

struct ScryptCost {
    int log2_n = 14;  // N = 16384: 16 MiB with r = 8, well under a second on a Pi 3
    int r = 8;
    int p = 1;
};

// Hashes with a fresh random salt. Throws std::runtime_error if OpenSSL fails.
std::string hash_password(std::string_view password, const ScryptCost& cost = {});
// Constant-time comparison; false for a malformed stored hash.
bool verify_password(std::string_view password, std::string_view stored);

// Lower-case hex of SHA-256 (session tokens are stored only as their hash).
std::string sha256_hex(std::string_view data);
// `bytes` random bytes from OpenSSL, as lower-case hex.
std::string random_hex(std::size_t bytes);

}  // namespace ck

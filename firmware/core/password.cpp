#include "core/password.hpp"

#include <algorithm>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <cstdint>
#include <stdexcept>
#include <vector>

namespace ck {
namespace {

constexpr std::size_t kHashBytes = 32;

std::string to_hex(const unsigned char* data, std::size_t size)
{
    static const char digits[] = "0123456789abcdef";
    std::string out;
    out.reserve(size * 2);
    for (std::size_t i = 0; i < size; ++i) {
        out.push_back(digits[data[i] >> 4]);
        out.push_back(digits[data[i] & 0x0f]);
    }
    return out;
}

bool from_hex(std::string_view hex, std::vector<unsigned char>& out)
{
    if (hex.size() % 2 != 0) return false;
    auto nibble = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        return -1;
    };
    out.clear();
    for (std::size_t i = 0; i < hex.size(); i += 2) {
        int hi = nibble(hex[i]);
        int lo = nibble(hex[i + 1]);
        if (hi < 0 || lo < 0) return false;
        out.push_back(static_cast<unsigned char>(hi * 16 + lo));
    }
    return true;
}

bool scrypt(std::string_view password, const std::vector<unsigned char>& salt,
            const ScryptCost& cost, unsigned char* out, std::size_t out_size)
{
    std::uint64_t n = std::uint64_t{1} << cost.log2_n;
    std::uint64_t max_mem = 128 * static_cast<std::uint64_t>(cost.r) * (n + 2) + (1 << 20);
    return EVP_PBE_scrypt(password.data(), password.size(), salt.data(), salt.size(), n,
                          static_cast<std::uint64_t>(cost.r), static_cast<std::uint64_t>(cost.p),
                          max_mem, out, out_size) == 1;
}

bool parse_int(std::string_view text, int lo, int hi, int& out)
{
    if (text.empty() || text.size() > 3) return false;
    int v = 0;
    for (char c : text) {
        if (c < '0' || c > '9') return false;
        v = v * 10 + (c - '0');
    }
    if (v < lo || v > hi) return false;
    out = v;
    return true;
}

}  // namespace

std::string random_hex(std::size_t bytes)
{
    std::vector<unsigned char> buffer(bytes);
    if (RAND_bytes(buffer.data(), static_cast<int>(buffer.size())) != 1) {
        throw std::runtime_error("the random number generator failed");
    }
    return to_hex(buffer.data(), buffer.size());
}

std::string sha256_hex(std::string_view data)
{
    unsigned char digest[SHA256_DIGEST_LENGTH];
    SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest);
    return to_hex(digest, sizeof digest);
}

std::string hash_password(std::string_view password, const ScryptCost& cost)
{
    std::vector<unsigned char> salt;
    from_hex(random_hex(16), salt);
    unsigned char hash[kHashBytes];
    if (!scrypt(password, salt, cost, hash, sizeof hash)) {
        throw std::runtime_error("scrypt failed");
    }
    return "scrypt$" + std::to_string(cost.log2_n) + "$" + std::to_string(cost.r) + "$" +
           std::to_string(cost.p) + "$" + to_hex(salt.data(), salt.size()) + "$" +
           to_hex(hash, sizeof hash);
}

bool verify_password(std::string_view password, std::string_view stored)
{
    // Exactly six '$'-separated fields: anything more is malformed, not ignored.
    std::vector<std::string_view> parts;
    std::size_t start = 0;
    for (;;) {
        std::size_t end = stored.find('$', start);
        parts.push_back(stored.substr(start, end == std::string_view::npos ? end : end - start));
        if (end == std::string_view::npos || parts.size() > 6) break;
        start = end + 1;
    }
    if (parts.size() != 6 || parts[0] != "scrypt") return false;
    ScryptCost cost;
    std::vector<unsigned char> salt;
    std::vector<unsigned char> expected;
    if (!parse_int(parts[1], 10, 22, cost.log2_n) || !parse_int(parts[2], 1, 32, cost.r) ||
        !parse_int(parts[3], 1, 16, cost.p) || !from_hex(parts[4], salt) ||
        !from_hex(parts[5], expected) || expected.size() != kHashBytes) {
        return false;
    }
    unsigned char hash[kHashBytes];
    if (!scrypt(password, salt, cost, hash, sizeof hash)) return false;
    return CRYPTO_memcmp(hash, expected.data(), kHashBytes) == 0;
}

Status check_staff_username(const std::string& username)
{
    bool ok = !username.empty() && username.size() <= 64 &&
              std::all_of(username.begin(), username.end(), [](char ch) {
                  return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                         (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '-';
              });
    if (ok) return Status::ok();
    return Status::error(err::invalid_staff,
                         "A user name is 1 to 64 letters, digits, '.', '_' or '-'.",
                         "For example maria.k or desk-2.");
}

Status check_new_password(const std::string& password)
{
    if (password.size() >= kMinPasswordLength && password.size() <= kMaxPasswordLength) {
        return Status::ok();
    }
    return Status::error(err::weak_password,
                         "A password has at least " + std::to_string(kMinPasswordLength) +
                             " characters (and at most " + std::to_string(kMaxPasswordLength) +
                             ").",
                         "A few unrelated words are long and easy to type.");
}

}  // namespace ck

#include "core/base32.hpp"

namespace ck {
namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

// The 5-bit value of an alphabet character, or -1.
int value_of(char c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= '2' && c <= '7') return c - '2' + 26;
    return -1;
}

}  // namespace

std::string base32_encode(const std::vector<std::uint8_t>& bytes)
{
    std::string out;
    out.reserve((bytes.size() * 8 + 4) / 5);
    std::uint32_t pending = 0;  // the low `bits` bits are not yet written
    int bits = 0;
    for (std::uint8_t byte : bytes) {
        pending = (pending << 8) | byte;
        bits += 8;
        while (bits >= 5) {
            bits -= 5;
            out.push_back(kAlphabet[(pending >> bits) & 31U]);
        }
        pending &= (1U << bits) - 1U;
    }
    if (bits > 0) out.push_back(kAlphabet[(pending << (5 - bits)) & 31U]);
    return out;
}

std::optional<std::vector<std::uint8_t>> base32_decode(std::string_view text)
{
    std::vector<std::uint8_t> out;
    out.reserve(text.size() * 5 / 8);
    std::uint32_t pending = 0;  // the low `bits` bits are not yet a whole byte
    int bits = 0;
    for (char c : text) {
        const int value = value_of(c);
        if (value < 0) return std::nullopt;
        pending = (pending << 5) | static_cast<std::uint32_t>(value);
        bits += 5;
        if (bits >= 8) {
            bits -= 8;
            out.push_back(static_cast<std::uint8_t>(pending >> bits));
            pending &= (1U << bits) - 1U;
        }
    }
    // A whole character left over means a length no encoder produces; leftover bits
    // must be the zero padding an encoder writes, or two texts would mean the same bytes.
    if (bits >= 5 || pending != 0) return std::nullopt;
    return out;
}

}  // namespace ck

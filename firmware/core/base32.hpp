// RFC 4648 base32, upper case, without padding: the alphabet fits QR alphanumeric mode.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ck {

std::string base32_encode(const std::vector<std::uint8_t>& bytes);
// Accepts upper case only, no padding; any other character, trailing bits that are not
// zero, or a length no encoding produces (1, 3 or 6 characters modulo 8) gives nullopt.
// So every accepted text is the one base32_encode gives for its bytes, and no two texts
// decode to the same bytes.
std::optional<std::vector<std::uint8_t>> base32_decode(std::string_view text);

}  // namespace ck

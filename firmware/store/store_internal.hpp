// Key encodings shared by the store's source files (not part of the store's interface).
#pragma once

#include <cstdint>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace ck::store_detail {

// Parts joined by \0, so that a prefix scan of "a\0" finds exactly a's entries.
inline std::string join_key(std::initializer_list<std::string_view> parts)
{
    std::string key;
    bool first = true;
    for (auto part : parts) {
        if (!first) key.push_back('\0');
        first = false;
        key.append(part);
    }
    return key;
}

inline std::string encode_u16(std::uint16_t v)
{
    return {static_cast<char>(v >> 8), static_cast<char>(v & 0xff)};
}

inline std::uint16_t decode_u16(std::string_view bytes)
{
    if (bytes.size() != 2) return 0;
    return static_cast<std::uint16_t>((static_cast<unsigned char>(bytes[0]) << 8) |
                                      static_cast<unsigned char>(bytes[1]));
}

inline bool starts_with(std::string_view s, std::string_view prefix)
{
    return s.substr(0, prefix.size()) == prefix;
}

// The last \0-separated part of an index key: the check-in id.
inline std::string_view last_part(std::string_view key)
{
    auto pos = key.rfind('\0');
    return pos == std::string_view::npos ? key : key.substr(pos + 1);
}

inline std::optional<nlohmann::json> parse_json(std::string_view text)
{
    auto json = nlohmann::json::parse(text, nullptr, false);
    if (json.is_discarded()) return std::nullopt;
    return json;
}

}  // namespace ck::store_detail

#include "core/text_fold.hpp"

namespace ck {
namespace {

void append_utf8(std::string& out, unsigned code_point)
{
    if (code_point < 0x80) {
        out.push_back(static_cast<char>(code_point));
    } else {  // only two-byte code points are folded here
        out.push_back(static_cast<char>(0xC0 | (code_point >> 6)));
        out.push_back(static_cast<char>(0x80 | (code_point & 0x3F)));
    }
}

unsigned fold_code_point(unsigned c)
{
    if (c >= 'A' && c <= 'Z') return c + 0x20;
    // Latin-1 Supplement: À..Þ -> à..þ, except × (U+00D7).
    if (c >= 0xC0 && c <= 0xDE && c != 0xD7) return c + 0x20;
    // Latin Extended-A: pairs (even upper, odd lower), with the İ/ı and Ĳ.. exceptions
    // left alone, and two ranges where the pairs start on odd code points.
    if ((c >= 0x100 && c <= 0x12F) || (c >= 0x132 && c <= 0x137) || (c >= 0x14A && c <= 0x177)) {
        return (c % 2 == 0) ? c + 1 : c;
    }
    if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E)) {
        return (c % 2 == 1) ? c + 1 : c;
    }
    if (c == 0x178) return 0xFF;  // Ÿ -> ÿ
    return c;
}

}  // namespace

std::string fold_for_match(std::string_view s)
{
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size();) {
        auto b0 = static_cast<unsigned char>(s[i]);
        if (b0 == ' ' || b0 == '\t') {
            if (!out.empty() && out.back() != ' ') out.push_back(' ');
            ++i;
            continue;
        }
        if (b0 < 0x80) {
            append_utf8(out, fold_code_point(b0));
            ++i;
            continue;
        }
        if ((b0 & 0xE0) == 0xC0 && i + 1 < s.size() &&
            (static_cast<unsigned char>(s[i + 1]) & 0xC0) == 0x80) {
            unsigned c = ((b0 & 0x1Fu) << 6) | (static_cast<unsigned char>(s[i + 1]) & 0x3Fu);
            append_utf8(out, fold_code_point(c));
            i += 2;
            continue;
        }
        out.push_back(static_cast<char>(b0));  // longer sequences and stray bytes: as is
        ++i;
    }
    while (!out.empty() && out.back() == ' ') out.pop_back();
    return out;
}

}  // namespace ck

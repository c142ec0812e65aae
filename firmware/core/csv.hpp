// CSV for spreadsheets: the exports of the device and the registry. UTF-8 with a BOM (so
// Excel reads accents right), ',' or ';' between fields (';' where Excel's locale uses a
// decimal comma, as in most of Europe).
#pragma once

#include <string>
#include <string_view>

namespace ck {

inline constexpr std::string_view kUtf8Bom = "\xEF\xBB\xBF";

// One field, quoted when it holds the separator, a quote or a line break; a leading
// = + - @ (a formula to a spreadsheet) is quoted and prefixed with '.
std::string csv_field(std::string_view text, char separator);

// A number as Excel reads it with that separator: "1.5" with ',', "1,5" with ';'.
std::string csv_number(double value, char separator);

}  // namespace ck

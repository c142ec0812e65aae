#include "core/csv.hpp"

#include <nlohmann/json.hpp>
#include <string>

namespace ck {

std::string csv_field(std::string_view text, char separator)
{
    bool quote = text.find_first_of(std::string{separator, '"', '\n', '\r'}) != std::string::npos;
    // A leading = + - @ would be a formula in a spreadsheet: quote and prefix it.
    bool formula =
        !text.empty() && std::string_view("=+-@").find(text.front()) != std::string::npos;
    if (!quote && !formula) return std::string(text);
    std::string out = "\"";
    if (formula) out += "'";
    for (char c : text) {
        if (c == '"') out += '"';
        out += c;
    }
    return out + "\"";
}

std::string csv_number(double value, char separator)
{
    std::string text = nlohmann::json(value).dump();
    if (separator == ';') {
        for (char& c : text) {
            if (c == '.') c = ',';
        }
    }
    return text;
}

}  // namespace ck

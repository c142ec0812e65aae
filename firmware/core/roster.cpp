// Roster import: text in, validated attendees and a per-row report out. No I/O.
//
// Both formats reduce each record to an Attendee of raw strings and hand it to one
// RosterBuilder, so the row rules (trimming, validation, duplicates) live in one place.
// Every string that reaches the report is valid UTF-8, so the report always serialises.
#include "core/roster.hpp"

#include <nlohmann/json.hpp>

#include <array>
#include <exception>
#include <unordered_set>
#include <utility>

namespace ck {
namespace {

using nlohmann::json;

// Length of the well-formed UTF-8 sequence at s[pos] (Unicode 15, table 3-7: no overlong
// forms, no surrogates, nothing above U+10FFFF), or 0 if it is not one. Stores the code
// point in *code_point when it is not null.
std::size_t utf8_sequence_at(std::string_view s, std::size_t pos, char32_t* code_point = nullptr)
{
    const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(s[pos + i]); };
    const unsigned char lead = byte(0);
    std::size_t length = 0;
    unsigned char low = 0x80;  // allowed range of the second byte
    unsigned char high = 0xBF;
    char32_t value = 0;
    if (lead < 0x80) {
        length = 1;
        value = lead;
    } else if (lead >= 0xC2 && lead <= 0xDF) {
        length = 2;
        value = lead & 0x1Fu;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
        length = 3;
        value = lead & 0x0Fu;
        if (lead == 0xE0) low = 0xA0;   // overlong
        if (lead == 0xED) high = 0x9F;  // surrogates
    } else if (lead >= 0xF0 && lead <= 0xF4) {
        length = 4;
        value = lead & 0x07u;
        if (lead == 0xF0) low = 0x90;   // overlong
        if (lead == 0xF4) high = 0x8F;  // above U+10FFFF
    } else {
        return 0;
    }
    if (s.size() - pos < length) return 0;
    for (std::size_t i = 1; i < length; ++i) {
        const unsigned char b = byte(i);
        if (b < (i == 1 ? low : 0x80) || b > (i == 1 ? high : 0xBF)) return 0;
        value = (value << 6) | (b & 0x3Fu);
    }
    if (code_point != nullptr) *code_point = value;
    return length;
}

// Number of code points in `s`, or -1 when `s` is not valid UTF-8.
long utf8_length(std::string_view s)
{
    long count = 0;
    for (std::size_t pos = 0; pos < s.size(); ++count) {
        const std::size_t n = utf8_sequence_at(s, pos);
        if (n == 0) return -1;
        pos += n;
    }
    return count;
}

// The longest prefix of valid UTF-8 `s` that fits in `max_bytes` without splitting a character.
std::string_view utf8_prefix(std::string_view s, std::size_t max_bytes)
{
    std::size_t end = 0;
    while (end < s.size()) {
        const std::size_t n = utf8_sequence_at(s, end);
        if (n == 0 || end + n > max_bytes) break;
        end += n;
    }
    return s.substr(0, end);
}

bool is_ascii_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

std::string_view trim(std::string_view s)
{
    while (!s.empty() && is_ascii_space(s.front())) s.remove_prefix(1);
    while (!s.empty() && is_ascii_space(s.back())) s.remove_suffix(1);
    return s;
}

char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool is_id_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
}

// Deliberately loose: one '@' with something either side and no spaces or control
// characters. Deliverability is the mail server's business, not the kiosk's.
bool looks_like_email(std::string_view s)
{
    const std::size_t at = s.find('@');
    if (at == std::string_view::npos || at == 0 || at + 1 == s.size()) return false;
    if (s.find('@', at + 1) != std::string_view::npos) return false;
    for (char c : s) {
        if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7F) return false;
    }
    return true;
}

enum class Check { kNone, kId, kEmail };

// The attendee fields, in the order they are checked and reported. `name` is both the
// CSV column and the JSON key. Limits count bytes, or characters when `limit_in_chars`.
struct FieldRule {
    std::string_view name;
    std::string Attendee::*member;
    bool required;
    std::size_t max_length;
    bool limit_in_chars;
    Check check;
};

constexpr std::array<FieldRule, 5> kFields{{
    {"id", &Attendee::id, true, 64, false, Check::kId},
    {"family_name", &Attendee::family_name, true, 100, false, Check::kNone},
    {"given_name", &Attendee::given_name, true, 100, false, Check::kNone},
    {"email", &Attendee::email, false, 254, false, Check::kEmail},
    {"country", &Attendee::country, false, 64, true, Check::kNone},
}};

// Code and message of the first problem with the (already trimmed) field, or empty code.
std::pair<std::string, std::string> check_field(const FieldRule& rule, std::string_view value)
{
    const std::string field = "The " + std::string(rule.name) + " field ";
    const long chars = utf8_length(value);
    if (chars < 0) return {"invalid_utf8", field + "is not valid UTF-8 text."};
    if (value.empty()) {
        if (!rule.required) return {};
        return {"missing_field", field + "is missing or empty."};
    }
    const std::size_t length = rule.limit_in_chars ? static_cast<std::size_t>(chars) : value.size();
    if (length > rule.max_length) {
        return {"too_long", field + "is longer than " + std::to_string(rule.max_length) +
                                (rule.limit_in_chars ? " characters." : " bytes.")};
    }
    if (rule.check == Check::kId) {
        for (char c : value) {
            if (!is_id_char(c)) {
                return {"invalid_id",
                        field +
                            "may contain only letters A-Z, digits, dots, underscores and "
                            "hyphens."};
            }
        }
    }
    if (rule.check == Check::kEmail && !looks_like_email(value)) {
        return {"invalid_email", field + "is not an e-mail address (name@domain, no spaces)."};
    }
    return {};
}

// Collects rows into a RosterImport. Each data record ends in exactly one add() or reject().
class RosterBuilder {
public:
    // Trims every field, validates, and rejects an id already accepted from this file.
    void add(int line, Attendee attendee)
    {
        for (const FieldRule& rule : kFields) {
            std::string& value = attendee.*rule.member;
            value = std::string(trim(value));
        }
        for (const FieldRule& rule : kFields) {
            auto [code, message] = check_field(rule, attendee.*rule.member);
            if (!code.empty()) {
                return reject(line, attendee.id, std::move(code), std::move(message), rule.name);
            }
        }
        if (!seen_ids_.insert(attendee.id).second) {
            return reject(
                line, attendee.id, "duplicate_id",
                "The id field repeats an id from an earlier row; the earlier row is kept.");
        }
        ++import_.rows_total;
        import_.accepted.push_back(std::move(attendee));
    }

    void reject(int line, std::string_view id, std::string code, std::string message,
                std::string_view field = {})
    {
        ++import_.rows_total;
        RosterRowProblem problem;
        problem.line = line;
        // Echo the id only as far as it is printable text of a sane length.
        id = trim(id);
        if (utf8_length(id) >= 0) problem.id = std::string(utf8_prefix(id, 64));
        problem.code = std::move(code);
        problem.message = std::move(message);
        problem.field = std::string(field);
        import_.rejected.push_back(std::move(problem));
    }

    RosterImport finish() { return std::move(import_); }

private:
    RosterImport import_;
    std::unordered_set<std::string> seen_ids_;
};

RosterImport file_error(std::string message)
{
    RosterImport import;
    import.file_error = std::move(message);
    return import;
}

// ---- CSV ----------------------------------------------------------------------------------

// Length of the line break (CRLF, LF or a lone CR) at text[pos], or 0.
std::size_t line_break_at(std::string_view text, std::size_t pos)
{
    if (text[pos] == '\n') return 1;
    if (text[pos] != '\r') return 0;
    return (pos + 1 < text.size() && text[pos + 1] == '\n') ? 2 : 1;
}

// ';' if the first non-blank line has a ';' outside quotes and no ',' there; else ','.
char detect_separator(std::string_view text)
{
    bool in_quotes = false;
    bool seen_content = false;
    bool comma = false;
    bool semicolon = false;
    for (std::size_t pos = 0; pos < text.size(); ++pos) {
        const char c = text[pos];
        if (c == '"') in_quotes = !in_quotes;  // "" inside quotes toggles twice: still inside
        if (in_quotes) continue;
        if (line_break_at(text, pos) != 0 && seen_content) break;
        if (!is_ascii_space(c)) seen_content = true;
        comma = comma || c == ',';
        semicolon = semicolon || c == ';';
    }
    return semicolon && !comma ? ';' : ',';
}

struct CsvRecord {
    int line = 0;  // physical line where the record starts
    std::vector<std::string> fields;
    bool unterminated = false;  // the text ended inside a quoted field
};

// RFC 4180 reader, lenient where the RFC is strict: spaces before an opening quote are
// dropped, and a quote inside an unquoted field or after a closing quote is kept as text.
// Each byte is looked at once, so reading is linear in the size of the text.
class CsvReader {
public:
    CsvReader(std::string_view text, char separator) : text_(text), separator_(separator) {}

    bool next(CsvRecord& record)
    {
        if (pos_ >= text_.size()) return false;
        record.line = line_;
        record.fields.clear();
        record.unterminated = false;
        std::string field;
        enum { kStart, kUnquoted, kQuoted, kAfterQuote } state = kStart;
        while (pos_ < text_.size()) {
            const char c = text_[pos_];
            const std::size_t line_break = line_break_at(text_, pos_);
            if (state == kQuoted) {
                if (c == '"' && pos_ + 1 < text_.size() && text_[pos_ + 1] == '"') {
                    field += '"';
                    pos_ += 2;
                } else if (c == '"') {
                    state = kAfterQuote;
                    ++pos_;
                } else {
                    const std::size_t n = line_break == 0 ? 1 : line_break;
                    field.append(text_.substr(pos_, n));
                    if (line_break != 0) ++line_;
                    pos_ += n;
                }
                continue;
            }
            if (line_break != 0) {
                pos_ += line_break;
                ++line_;
                record.fields.push_back(std::move(field));
                return true;
            }
            ++pos_;
            if (c == separator_) {
                record.fields.push_back(std::move(field));
                field.clear();
                state = kStart;
            } else if (c == '"' && state == kStart) {
                field.clear();
                state = kQuoted;
            } else {
                field += c;
                if (state == kStart && c != ' ' && c != '\t') state = kUnquoted;
            }
        }
        record.unterminated = state == kQuoted;
        record.fields.push_back(std::move(field));
        return true;
    }

private:
    std::string_view text_;
    char separator_;
    std::size_t pos_ = 0;
    int line_ = 1;
};

// Blank lines, and rows of nothing but separators and spaces, carry no attendee.
bool is_blank(const CsvRecord& record)
{
    if (record.unterminated) return false;
    for (const std::string& field : record.fields) {
        if (!trim(field).empty()) return false;
    }
    return true;
}

RosterImport parse_csv(std::string_view text)
{
    if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
    CsvReader reader(text, detect_separator(text));
    CsvRecord record;
    bool have_header = false;
    while (!have_header && reader.next(record)) have_header = !is_blank(record);
    if (!have_header) return file_error("The file is empty: it has no header row.");
    if (record.unterminated) return file_error("The header row has a quote that is never closed.");

    // column[i]: index in the record of kFields[i], or -1 when the header lacks it.
    std::array<long, kFields.size()> column;
    column.fill(-1);
    const std::size_t header_size = record.fields.size();
    for (std::size_t c = 0; c < header_size; ++c) {
        std::string name(trim(record.fields[c]));
        for (char& ch : name) ch = ascii_lower(ch);
        for (std::size_t i = 0; i < kFields.size(); ++i) {
            if (name != kFields[i].name) continue;
            if (column[i] >= 0) {
                return file_error("The header names the column " + name + " twice.");
            }
            column[i] = static_cast<long>(c);
        }
    }
    std::string missing;
    for (std::size_t i = 0; i < kFields.size(); ++i) {
        if (!kFields[i].required || column[i] >= 0) continue;
        missing += (missing.empty() ? "" : ", ") + std::string(kFields[i].name);
    }
    if (!missing.empty()) {
        return file_error("The header row lacks the required column(s): " + missing +
                          ". It must name id, family_name and given_name.");
    }

    RosterBuilder builder;
    while (reader.next(record)) {
        if (is_blank(record)) continue;
        Attendee attendee;
        for (std::size_t i = 0; i < kFields.size(); ++i) {
            const auto c = static_cast<std::size_t>(column[i]);
            if (column[i] >= 0 && c < record.fields.size()) {
                attendee.*kFields[i].member = std::move(record.fields[c]);
            }
        }
        if (record.unterminated) {
            builder.reject(record.line, attendee.id, "unterminated_quote",
                           "A quoted field starting in this row is never closed: a closing "
                           "double quote is missing.");
        } else if (record.fields.size() > header_size) {
            builder.reject(record.line, attendee.id, "wrong_column_count",
                           "This row has " + std::to_string(record.fields.size()) +
                               " fields but the header names only " + std::to_string(header_size) +
                               " columns.");
        } else {
            builder.add(record.line, std::move(attendee));
        }
    }
    return builder.finish();
}

// ---- JSON ---------------------------------------------------------------------------------

// One element of a JSON roster: an object whose attendee fields are strings (null or
// absent: empty).
void add_json_entry(RosterBuilder& builder, int line, const json& element)
{
    if (!element.is_object()) {
        builder.reject(line, {}, "wrong_type", "This entry is not a JSON object.");
        return;
    }
    Attendee attendee;
    const FieldRule* wrong_type = nullptr;
    for (const FieldRule& rule : kFields) {
        const auto it = element.find(rule.name);
        if (it == element.end() || it->is_null()) continue;  // null = absent
        if (it->is_string()) {
            attendee.*rule.member = it->get<std::string>();
        } else if (wrong_type == nullptr) {
            wrong_type = &rule;
        }
    }
    if (wrong_type != nullptr) {
        builder.reject(line, attendee.id, "wrong_type",
                       "The " + std::string(wrong_type->name) + " field must be a string.",
                       wrong_type->name);
    } else {
        builder.add(line, std::move(attendee));
    }
}

RosterImport parse_json(std::string_view text)
{
    json document;
    try {
        document = json::parse(text);
    } catch (const json::parse_error& error) {
        // Not error.what(): it quotes input bytes, which need not be valid UTF-8.
        return file_error("The file is not valid JSON (error at byte " +
                          std::to_string(error.byte) + ").");
    } catch (const json::exception&) {
        return file_error("The file is not valid JSON.");
    }
    const json* attendees = &document;
    if (document.is_object()) {
        const auto it = document.find("attendees");
        if (it != document.end()) attendees = &*it;
    }
    if (!attendees->is_array()) {
        return file_error(
            "The JSON must be an array of attendees or an object with an \"attendees\" array.");
    }

    RosterBuilder builder;
    int line = 0;
    for (const json& element : *attendees) add_json_entry(builder, ++line, element);
    return builder.finish();
}

// Keeps the promise that nothing is thrown across the module boundary (e.g. bad_alloc).
template <class Parse>
RosterImport guarded(Parse parse, std::string_view text)
{
    try {
        return parse(text);
    } catch (const std::exception&) {
        return file_error("The file could not be read: it is too large or malformed.");
    }
}

}  // namespace

std::string Attendee::display_name() const { return given_name + " " + family_name; }

std::string Attendee::first_name_initial() const
{
    // The first character, with any combining marks after it ("O" + U+0308 is one letter).
    std::size_t end = 0;
    for (char32_t code_point = 0; end < family_name.size();) {
        const std::size_t n = utf8_sequence_at(family_name, end, &code_point);
        if (n == 0 || (end > 0 && (code_point < 0x300 || code_point > 0x36F))) break;
        end += n;
    }
    if (end == 0) return given_name;
    return given_name + " " + family_name.substr(0, end) + ".";
}

nlohmann::json attendee_to_json(const Attendee& attendee)
{
    const auto optional = [](const std::string& s) { return s.empty() ? json(nullptr) : json(s); };
    return {{"id", attendee.id},
            {"family_name", attendee.family_name},
            {"given_name", attendee.given_name},
            {"email", optional(attendee.email)},
            {"country", optional(attendee.country)}};
}

RosterImport parse_roster_csv(std::string_view text) { return guarded(parse_csv, text); }

RosterImport parse_roster_json(std::string_view text) { return guarded(parse_json, text); }

RosterImport parse_roster_entry(const nlohmann::json& entry)
{
    try {
        RosterBuilder builder;
        add_json_entry(builder, 1, entry);
        return builder.finish();
    } catch (const std::exception&) {
        return file_error("The attendee could not be read.");
    }
}

nlohmann::json roster_import_report_to_json(const RosterImport& import)
{
    json rejected = json::array();
    for (const RosterRowProblem& problem : import.rejected) {
        rejected.push_back({{"line", problem.line},
                            {"id", problem.id.empty() ? json(nullptr) : json(problem.id)},
                            {"code", problem.code},
                            {"message", problem.message}});
    }
    return {{"rows_total", import.rows_total},
            {"accepted", import.accepted.size()},
            {"rejected", std::move(rejected)},
            {"file_error", import.file_error.empty() ? json(nullptr) : json(import.file_error)}};
}

}  // namespace ck

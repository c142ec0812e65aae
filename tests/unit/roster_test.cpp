// Tests for core/roster: field rules, the CSV reader, the JSON shapes and the report.
#include "core/roster.hpp"

#include <doctest/doctest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

namespace {

using nlohmann::json;

std::string read_data(const std::string& name)
{
    std::ifstream in(std::string(CK_TEST_DATA_DIR) + "/roster/" + name, std::ios::binary);
    REQUIRE_MESSAGE(in.good(), "cannot open test data ", name);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

std::string trimmed(std::string s)
{
    const auto first = s.find_first_not_of(" \t\r\n");
    if (first == std::string::npos) return {};
    return s.substr(first, s.find_last_not_of(" \t\r\n") - first + 1);
}

// Quotes every field, so separators, quotes and line breaks inside values survive.
std::string csv_line(const std::vector<std::string>& fields, char separator)
{
    std::string line;
    for (const std::string& field : fields) {
        if (!line.empty()) line += separator;
        line += '"';
        for (char c : field) line += (c == '"') ? std::string("\"\"") : std::string(1, c);
        line += '"';
    }
    return line + "\n";
}

// Replaces the placeholder '|' with the separator under test.
std::string with_separator(std::string text, char separator)
{
    for (char& c : text) {
        if (c == '|') c = separator;
    }
    return text;
}

std::vector<std::string> accepted_ids(const ck::RosterImport& import)
{
    std::vector<std::string> ids;
    for (const ck::Attendee& attendee : import.accepted) ids.push_back(attendee.id);
    return ids;
}

struct Rejection {
    int line;
    std::string code;
    bool operator==(const Rejection&) const = default;
};

std::vector<Rejection> rejections(const ck::RosterImport& import)
{
    std::vector<Rejection> out;
    for (const ck::RosterRowProblem& problem : import.rejected) {
        out.push_back({problem.line, problem.code});
    }
    return out;
}

const std::string k100 = std::string(100, 'x');
const std::string k64 = std::string(64, 'a');

struct FieldCase {
    const char* label;
    std::vector<std::string> fields;  // id, family_name, given_name, email, country
    std::string code;                 // empty: accepted
    std::string field;                // the field the message must name
    bool valid_json_text = true;      // false when the bytes cannot travel inside JSON
};

const std::vector<FieldCase> kFieldCases = {
    {"minimal", {"A-1", "Müller", "Anna", "", ""}, "", ""},
    {"all fields", {"x.Y_z-9", "Ñúñez", "José", "jose@example.org", "España"}, "", ""},
    {"surrounding whitespace trimmed", {"  A1\t", " Lee ", "\tKim ", " k@l.m ", " KR "}, "", ""},
    {"separators, quotes, newline inside a name",
     {"A2", "Smith, Jr.; \"II\"", "Jo\nAnn", "", ""},
     "",
     ""},
    {"id empty", {"", "Doe", "Jane", "", ""}, "missing_field", "id"},
    {"id only spaces", {"   ", "Doe", "Jane", "", ""}, "missing_field", "id"},
    {"id 64 chars", {k64, "Doe", "Jane", "", ""}, "", ""},
    {"id 65 chars", {k64 + "a", "Doe", "Jane", "", ""}, "too_long", "id"},
    {"id with space", {"A 1", "Doe", "Jane", "", ""}, "invalid_id", "id"},
    {"id with slash", {"a/b", "Doe", "Jane", "", ""}, "invalid_id", "id"},
    {"id with accent", {"é1", "Doe", "Jane", "", ""}, "invalid_id", "id"},
    {"id invalid UTF-8", {"\xC3(", "Doe", "Jane", "", ""}, "invalid_utf8", "id", false},
    {"family_name empty", {"A1", "", "Jane", "", ""}, "missing_field", "family_name"},
    {"given_name blank", {"A1", "Doe", " \t ", "", ""}, "missing_field", "given_name"},
    {"family_name 100 bytes", {"A1", k100, "Jane", "", ""}, "", ""},
    {"family_name 101 bytes", {"A1", k100 + "x", "Jane", "", ""}, "too_long", "family_name"},
    {"family_name invalid byte",
     {"A1", "M\xFCller", "Jane", "", ""},
     "invalid_utf8",
     "family_name",
     false},
    {"family_name overlong",
     {"A1", "\xC0\xAF", "Jane", "", ""},
     "invalid_utf8",
     "family_name",
     false},
    {"given_name surrogate",
     {"A1", "Doe", "\xED\xA0\x80", "", ""},
     "invalid_utf8",
     "given_name",
     false},
    {"given_name truncated", {"A1", "Doe", "Jan\xC3", "", ""}, "invalid_utf8", "given_name", false},
    {"email invalid UTF-8", {"A1", "Doe", "Jane", "j\xFF@x.y", ""}, "invalid_utf8", "email", false},
    {"email shortest", {"A1", "Doe", "Jane", "a@b", ""}, "", ""},
    {"email without @", {"A1", "Doe", "Jane", "jane.example.org", ""}, "invalid_email", "email"},
    {"email two @", {"A1", "Doe", "Jane", "a@b@c", ""}, "invalid_email", "email"},
    {"email nothing before @", {"A1", "Doe", "Jane", "@b.c", ""}, "invalid_email", "email"},
    {"email nothing after @", {"A1", "Doe", "Jane", "a@", ""}, "invalid_email", "email"},
    {"email inner space", {"A1", "Doe", "Jane", "a b@c.d", ""}, "invalid_email", "email"},
    {"email 254", {"A1", "Doe", "Jane", std::string(250, 'e') + "@b.c", ""}, "", ""},
    {"email 255", {"A1", "Doe", "Jane", std::string(251, 'e') + "@b.c", ""}, "too_long", "email"},
    {"country 64 chars", {"A1", "Doe", "Jane", "", std::string(64, 'c')}, "", ""},
    {"country 65 chars", {"A1", "Doe", "Jane", "", std::string(65, 'c')}, "too_long", "country"},
};

// "ü" repeated: the byte limits on names count bytes, the country limit counts characters.
std::string repeat(const std::string& s, int n)
{
    std::string out;
    for (int i = 0; i < n; ++i) out += s;
    return out;
}

const std::vector<FieldCase> kUtf8LengthCases = {
    {"family_name 50 x ü (100 bytes)", {"A1", repeat("ü", 50), "Jane", "", ""}, "", ""},
    {"family_name 51 x ü (102 bytes)",
     {"A1", repeat("ü", 51), "Jane", "", ""},
     "too_long",
     "family_name"},
    {"country 64 x é (128 bytes)", {"A1", "Doe", "Jane", "", repeat("é", 64)}, "", ""},
    {"country 65 x é", {"A1", "Doe", "Jane", "", repeat("é", 65)}, "too_long", "country"},
};

void check_field_case(const FieldCase& c, const ck::RosterImport& import, const char* via)
{
    INFO(c.label, " via ", via);
    REQUIRE(import.file_error.empty());
    CHECK(import.rows_total == 1);
    if (c.code.empty()) {
        REQUIRE(import.accepted.size() == 1);
        CHECK(import.rejected.empty());
        const ck::Attendee& a = import.accepted[0];
        CHECK(a.id == trimmed(c.fields[0]));
        CHECK(a.family_name == trimmed(c.fields[1]));
        CHECK(a.given_name == trimmed(c.fields[2]));
        CHECK(a.email == trimmed(c.fields[3]));
        CHECK(a.country == trimmed(c.fields[4]));
    } else {
        CHECK(import.accepted.empty());
        REQUIRE(import.rejected.size() == 1);
        CHECK(import.rejected[0].code == c.code);
        CHECK(import.rejected[0].line == (std::string(via) == "json" ? 1 : 2));
        CHECK(import.rejected[0].message.find(c.field) != std::string::npos);
    }
}

}  // namespace

TEST_CASE("attendee field rules hold for CSV with either separator and for JSON")
{
    std::vector<FieldCase> cases = kFieldCases;
    cases.insert(cases.end(), kUtf8LengthCases.begin(), kUtf8LengthCases.end());
    for (const FieldCase& c : cases) {
        for (char separator : {',', ';'}) {
            const std::string text =
                csv_line({"id", "family_name", "given_name", "email", "country"}, separator) +
                csv_line(c.fields, separator);
            check_field_case(c, ck::parse_roster_csv(text), separator == ',' ? "comma" : "semi");
        }
        if (!c.valid_json_text) continue;
        const json row = {{"id", c.fields[0]},
                          {"family_name", c.fields[1]},
                          {"given_name", c.fields[2]},
                          {"email", c.fields[3]},
                          {"country", c.fields[4]}};
        check_field_case(c, ck::parse_roster_json(json::array({row}).dump()), "json");
    }
}

TEST_CASE("CSV structure: quoting, line numbers, blank lines, headers and bad rows")
{
    struct Case {
        const char* label;
        std::string text;  // '|' is replaced by ',' and by ';' in turn
        int rows_total;
        std::vector<std::string> accepted;
        std::vector<Rejection> rejected;
        std::string file_error;  // a word the file error must contain; empty: none expected
    };
    const std::vector<Case> cases = {
        {"quoted separators, quotes and newlines; lines counted after them",
         "id|family_name|given_name\n1|\"Smith, Jr.; II\"|John\n2|\"O\"\"Brien\"|Pat\n"
         "3|\"Multi\nLine\nName\"|Ann\n4||Bob\n5|Last|Lara",
         5,
         {"1", "2", "3", "5"},
         {{7, "missing_field"}},
         ""},
        {"CRLF line ends, quoted CRLF counted once",
         "id|family_name|given_name\r\n1|\"Multi\r\nLine\"|Ann\r\n2||Bob\r\n3|C|D\r\n",
         3,
         {"1", "3"},
         {{4, "missing_field"}},
         ""},
        {"lone CR line ends",
         "id|family_name|given_name\r1|A|B\r2||C\r",
         2,
         {"1"},
         {{3, "missing_field"}},
         ""},
        {"blank lines skipped but counted as lines",
         "\n\nid|family_name|given_name\n\n1|A|B\n   \n||\n2|C|\n\n",
         2,
         {"1"},
         {{8, "missing_field"}},
         ""},
        {"BOM stripped", "\xEF\xBB\xBFid|family_name|given_name\n1|A|B\n", 1, {"1"}, {}, ""},
        {"header in other case and order, extra columns",
         " Given_Name |Notes|ID|FAMILY_NAME|Email\nAnna|x|1|Müller|a@b.c\n",
         1,
         {"1"},
         {},
         ""},
        {"spaces around quoted fields",
         "id|family_name|given_name\n1 | \"Smith, Jr.\" |John\n",
         1,
         {"1"},
         {},
         ""},
        {"empty file", "", 0, {}, {}, "empty"},
        {"BOM only", "\xEF\xBB\xBF", 0, {}, {}, "empty"},
        {"only blank lines", "\n\r\n  \n", 0, {}, {}, "empty"},
        {"header only", "id|family_name|given_name\n", 0, {}, {}, ""},
        {"header only, no newline", "id|family_name|given_name", 0, {}, {}, ""},
        {"missing required column", "id|family_name|email\n1|A|a@b\n", 0, {}, {}, "given_name"},
        {"missing two columns", "id\n1\n", 0, {}, {}, "family_name, given_name"},
        {"column named twice", "id|family_name|given_name|ID\n1|A|B|1\n", 0, {}, {}, "twice"},
        {"unterminated quote in header",
         "id|\"family_name|given_name\n1|A|B\n",
         0,
         {},
         {},
         "quote"},
        {"more fields than columns",
         "id|family_name|given_name\n1|A|B|extra\n2|C|D\n",
         2,
         {"2"},
         {{2, "wrong_column_count"}},
         ""},
        {"fewer fields: fine when only optional ones are missing",
         "id|family_name|given_name|email|country\n1|A|B\n2|C\n",
         2,
         {"1"},
         {{3, "missing_field"}},
         ""},
        {"duplicate id: first kept, later ones rejected",
         "id|family_name|given_name\n1|A|B\n1|C|D\n2|E|F\n1|G|H\n",
         4,
         {"1", "2"},
         {{3, "duplicate_id"}, {5, "duplicate_id"}},
         ""},
        {"a rejected row does not claim its id",
         "id|family_name|given_name\n1||B\n1|C|D\n",
         2,
         {"1"},
         {{2, "missing_field"}},
         ""},
        {"unterminated quote at end: earlier rows kept",
         "id|family_name|given_name\n1|A|B\n2|\"Open|C\n3|D|E\n",
         2,
         {"1"},
         {{3, "unterminated_quote"}},
         ""},
        {"bad rows reported, good rows kept",
         "id|family_name|given_name|email\n1|A|B|\nbad id|C|D|\n3|E|F|nope\n4|G|H|g@h\n",
         4,
         {"1", "4"},
         {{3, "invalid_id"}, {4, "invalid_email"}},
         ""},
    };
    for (const Case& c : cases) {
        for (char separator : {',', ';'}) {
            INFO(c.label, " with separator ", separator);
            const ck::RosterImport import = ck::parse_roster_csv(with_separator(c.text, separator));
            CHECK(import.rows_total == c.rows_total);
            CHECK(accepted_ids(import) == c.accepted);
            CHECK(rejections(import) == c.rejected);
            if (c.file_error.empty()) {
                CHECK(import.file_error == "");
            } else {
                CHECK(import.file_error.find(c.file_error) != std::string::npos);
            }
        }
    }
}

TEST_CASE("CSV separator is detected from the header, outside quotes")
{
    struct Case {
        const char* text;
        std::string given_name;  // empty: the header is not understood
    };
    const std::vector<Case> cases = {
        {"id,family_name,given_name,\"notes;misc\"\n1,A,B;C,x\n", "B;C"},
        {"id;family_name;given_name;\"notes,misc\"\n1;A;B,C;x\n", "B,C"},
        {"id;family_name;given_name\n1;A;B,C\n", "B,C"},
        // Both outside quotes: ',' wins, so "given_name;x" is one column and given_name lacks.
        {"id,family_name,given_name;x\n1,A,B\n", ""},
    };
    for (const Case& c : cases) {
        INFO(c.text);
        const ck::RosterImport import = ck::parse_roster_csv(c.text);
        if (c.given_name.empty()) {
            CHECK(import.file_error.find("given_name") != std::string::npos);
        } else {
            REQUIRE(import.accepted.size() == 1);
            CHECK(import.accepted[0].given_name == c.given_name);
        }
    }
}

TEST_CASE("CSV field bytes are kept exactly, quotes inside unquoted fields included")
{
    for (char separator : {',', ';'}) {
        const std::string text = with_separator(
            "id|family_name|given_name\n"
            "1|O\"Brien|\"Émile \"\"Le Grand\"\"\"\n"
            "2|\"Weiß\r\nSchmidt\"|Zoë\n",
            separator);
        const ck::RosterImport import = ck::parse_roster_csv(text);
        REQUIRE(import.accepted.size() == 2);
        CHECK(import.accepted[0].family_name == "O\"Brien");
        CHECK(import.accepted[0].given_name == "\xC3\x89mile \"Le Grand\"");
        CHECK(import.accepted[1].family_name == "Wei\xC3\x9F\r\nSchmidt");
        CHECK(import.accepted[1].given_name == "Zo\xC3\xAB");
    }
}

TEST_CASE("CSV sample files")
{
    SUBCASE("comma, LF, quoted commas/quotes/newlines, accents, bad rows")
    {
        const ck::RosterImport import = ck::parse_roster_csv(read_data("comma_lf.csv"));
        CHECK(import.file_error == "");
        CHECK(import.rows_total == 10);
        CHECK(accepted_ids(import) ==
              std::vector<std::string>{"A-001", "A-002", "A-003", "A-004", "A-005", "A-009"});
        CHECK(rejections(import) == std::vector<Rejection>{{9, "missing_field"},
                                                           {10, "duplicate_id"},
                                                           {11, "invalid_id"},
                                                           {12, "invalid_email"}});
        REQUIRE(import.rejected.size() == 4);
        CHECK(import.rejected[1].id == "A-002");
        CHECK(import.rejected[2].id == "A 007");
        REQUIRE(import.accepted.size() == 6);
        CHECK(import.accepted[0].family_name == "M\xC3\xBCller");
        CHECK(import.accepted[0].country == "Deutschland");
        CHECK(import.accepted[1].family_name ==
              "\xC3\x91\xC3\xBA\xC3\xB1"
              "ez");
        CHECK(import.accepted[1].given_name == "Jos\xC3\xA9");
        CHECK(import.accepted[1].email == "");
        CHECK(import.accepted[1].country ==
              "Espa\xC3\xB1"
              "a");
        CHECK(import.accepted[2].family_name == "Smith, Jr.");
        CHECK(import.accepted[3].family_name == "O\"Brien");
        CHECK(import.accepted[4].given_name == "Marie\nClaire");
        CHECK(import.accepted[5].given_name == "Line");
    }
    SUBCASE("BOM, semicolons, CRLF, header in other case and order with extra columns")
    {
        const ck::RosterImport import = ck::parse_roster_csv(read_data("semicolon_bom_crlf.csv"));
        CHECK(import.file_error == "");
        CHECK(import.rows_total == 5);
        CHECK(accepted_ids(import) == std::vector<std::string>{"A-001", "A-002", "A-005"});
        CHECK(rejections(import) ==
              std::vector<Rejection>{{6, "missing_field"}, {7, "wrong_column_count"}});
        REQUIRE(import.accepted.size() == 3);
        CHECK(import.accepted[0].given_name == "Anna");
        CHECK(import.accepted[0].family_name == "M\xC3\xBCller");
        CHECK(import.accepted[0].email == "anna@example.de");
        CHECK(import.accepted[1].given_name == "Lena; Marie");
        CHECK(import.accepted[1].family_name == "Wei\xC3\x9F\r\nSchmidt");
        CHECK(import.accepted[2].display_name() == "Short Fewer");
    }
    SUBCASE("invalid UTF-8 and an unterminated quote")
    {
        const ck::RosterImport import =
            ck::parse_roster_csv(read_data("bad_bytes_unterminated.csv"));
        CHECK(import.rows_total == 3);
        CHECK(accepted_ids(import) == std::vector<std::string>{"B-2"});
        CHECK(rejections(import) ==
              std::vector<Rejection>{{2, "invalid_utf8"}, {4, "unterminated_quote"}});
        REQUIRE(import.rejected.size() == 2);
        CHECK(import.rejected[0].id == "B-1");
        CHECK(import.rejected[1].id == "B-3");
        CHECK_NOTHROW((void)ck::roster_import_report_to_json(import).dump());
    }
}

TEST_CASE("JSON input: both shapes, invalid documents, wrong types")
{
    struct Case {
        const char* label;
        std::string text;
        int rows_total;
        std::vector<std::string> accepted;
        std::vector<Rejection> rejected;
        bool file_error;
    };
    const std::string anna = R"({"id":"1","family_name":"A","given_name":"Anna"})";
    const std::vector<Case> cases = {
        {"empty array", "[]", 0, {}, {}, false},
        {"object with empty attendees", R"({"attendees": []})", 0, {}, {}, false},
        {"array", "[" + anna + "]", 1, {"1"}, {}, false},
        {"object with attendees and other keys",
         R"({"version":2,"attendees":[)" + anna + "]}",
         1,
         {"1"},
         {},
         false},
        {"BOM before the document", "\xEF\xBB\xBF[" + anna + "]", 1, {"1"}, {}, false},
        {"unknown keys ignored",
         R"([{"id":"1","family_name":"A","given_name":"B","x":[1]}])",
         1,
         {"1"},
         {},
         false},
        {"null optional field is absent",
         R"([{"id":"1","family_name":"A","given_name":"B","email":null,"country":null}])",
         1,
         {"1"},
         {},
         false},
        {"null required field is missing",
         R"([{"id":"1","family_name":null,"given_name":"B"}])",
         1,
         {},
         {{1, "missing_field"}},
         false},
        {"elements that are not objects",
         R"([1, null, [], "x", )" + anna + "]",
         5,
         {"1"},
         {{1, "wrong_type"}, {2, "wrong_type"}, {3, "wrong_type"}, {4, "wrong_type"}},
         false},
        {"numeric id",
         R"([{"id":7,"family_name":"A","given_name":"B"}])",
         1,
         {},
         {{1, "wrong_type"}},
         false},
        {"fields of other types",
         R"([{"id":"1","family_name":"A","given_name":["B"]},
             {"id":"2","family_name":"A","given_name":"B","email":true},
             {"id":"3","family_name":"A","given_name":"B","country":{}}])",
         3,
         {},
         {{1, "wrong_type"}, {2, "wrong_type"}, {3, "wrong_type"}},
         false},
        {"empty text", "", 0, {}, {}, true},
        {"truncated", "[{", 0, {}, {}, true},
        {"trailing garbage", "[] x", 0, {}, {}, true},
        {"invalid UTF-8 in a string",
         "[{\"id\":\"1\",\"family_name\":\"M\xFC\"}]",
         0,
         {},
         {},
         true},
        {"a number", "42", 0, {}, {}, true},
        {"null", "null", 0, {}, {}, true},
        {"object without attendees", R"({"people": []})", 0, {}, {}, true},
        {"attendees not an array", R"({"attendees": {}})", 0, {}, {}, true},
        {"a CSV file", "id,family_name,given_name\n1,A,B\n", 0, {}, {}, true},
    };
    for (const Case& c : cases) {
        INFO(c.label);
        const ck::RosterImport import = ck::parse_roster_json(c.text);
        CHECK(import.rows_total == c.rows_total);
        CHECK(accepted_ids(import) == c.accepted);
        CHECK(rejections(import) == c.rejected);
        CHECK(import.file_error.empty() == !c.file_error);
    }
}

TEST_CASE("JSON wrong_type message names the field and keeps the id")
{
    const ck::RosterImport import =
        ck::parse_roster_json(R"([{"id":"Z-9","family_name":"A","given_name":"B","email":5}])");
    REQUIRE(import.rejected.size() == 1);
    CHECK(import.rejected[0].id == "Z-9");
    CHECK(import.rejected[0].message.find("email") != std::string::npos);
}

TEST_CASE("JSON sample files")
{
    SUBCASE("array with accents, null, wrong types, a duplicate and a missing id")
    {
        const ck::RosterImport import = ck::parse_roster_json(read_data("attendees_array.json"));
        CHECK(import.file_error == "");
        CHECK(import.rows_total == 6);
        CHECK(accepted_ids(import) == std::vector<std::string>{"J-1", "J-2"});
        CHECK(rejections(import) ==
              std::vector<Rejection>{
                  {3, "wrong_type"}, {4, "wrong_type"}, {5, "duplicate_id"}, {6, "missing_field"}});
        REQUIRE(import.accepted.size() == 2);
        CHECK(import.accepted[0].family_name == "M\xC3\xBCller");
        CHECK(import.accepted[1].given_name == "Jos\xC3\xA9");
        CHECK(import.accepted[1].email == "");
    }
    SUBCASE("object with attendees")
    {
        const ck::RosterImport import = ck::parse_roster_json(read_data("attendees_object.json"));
        CHECK(import.file_error == "");
        CHECK(accepted_ids(import) == std::vector<std::string>{"K-1", "K-2"});
        REQUIRE(import.accepted.size() == 2);
        CHECK(import.accepted[0].family_name == "\xC3\x98ster");
        CHECK(import.accepted[1].first_name_initial() == "\xC3\x89lise L.");
    }
}

TEST_CASE("display_name and first_name_initial")
{
    struct Case {
        std::string given, family, display, initial;
    };
    const std::vector<Case> cases = {
        {"Anna", "Müller", "Anna Müller", "Anna M."},
        {"Olga", "Ölaf", "Olga Ölaf", "Olga Ö."},
        {"José", "Ñúñez", "José Ñúñez", "José Ñ."},
        {"Olga", "O\xCC\x88laf", "Olga O\xCC\x88laf", "Olga O\xCC\x88."},  // O + combining ¨
        {"Taro", "山田", "Taro 山田", "Taro 山."},
        {"Ann", "\xF0\x9D\x90\x80x", "Ann \xF0\x9D\x90\x80x", "Ann \xF0\x9D\x90\x80."},  // 4 bytes
        {"Jo", "X", "Jo X", "Jo X."},
        {"Jo", "", "Jo ", "Jo"},
    };
    for (const Case& c : cases) {
        INFO(c.family);
        ck::Attendee attendee;
        attendee.given_name = c.given;
        attendee.family_name = c.family;
        CHECK(attendee.display_name() == c.display);
        CHECK(attendee.first_name_initial() == c.initial);
    }
}

TEST_CASE("attendee_to_json writes absent optional fields as null")
{
    ck::Attendee attendee{"A-1", "Müller", "Anna", "anna@example.de", ""};
    const json j = ck::attendee_to_json(attendee);
    CHECK(j == json{{"id", "A-1"},
                    {"family_name", "Müller"},
                    {"given_name", "Anna"},
                    {"email", "anna@example.de"},
                    {"country", nullptr}});
    // What it writes imports again unchanged.
    const ck::RosterImport again = ck::parse_roster_json(json::array({j}).dump());
    REQUIRE(again.accepted.size() == 1);
    CHECK(ck::attendee_to_json(again.accepted[0]) == j);
}

TEST_CASE("import report JSON")
{
    SUBCASE("rows with and without ids")
    {
        const ck::RosterImport import = ck::parse_roster_csv(
            "id,family_name,given_name\n1,A,B\n,C,D\n\xFF,E,F\n" + std::string(80, 'z') + ",G,H\n");
        const json report = ck::roster_import_report_to_json(import);
        CHECK(report["rows_total"] == 4);
        CHECK(report["accepted"] == 1);
        CHECK(report["file_error"].is_null());
        REQUIRE(report["rejected"].size() == 3);
        CHECK(report["rejected"][0] == json{{"line", 3},
                                            {"id", nullptr},
                                            {"code", "missing_field"},
                                            {"message", import.rejected[0].message}});
        CHECK(report["rejected"][1]["id"].is_null());  // not valid UTF-8: not echoed
        CHECK(report["rejected"][1]["code"] == "invalid_utf8");
        CHECK(report["rejected"][2]["id"] == std::string(64, 'z'));  // echo is capped
        CHECK(report["rejected"][2]["code"] == "too_long");
        CHECK_NOTHROW((void)report.dump());
    }
    SUBCASE("file error")
    {
        const json report = ck::roster_import_report_to_json(ck::parse_roster_json("{"));
        CHECK(report["rows_total"] == 0);
        CHECK(report["accepted"] == 0);
        CHECK(report["rejected"] == json::array());
        CHECK(report["file_error"].is_string());
    }
}

TEST_CASE("large inputs are read in one pass")
{
    // A quadratic reader would take minutes on these; the test then times out.
    std::string text = "id;family_name;given_name\n";
    for (int i = 0; i < 50000; ++i) text += "P" + std::to_string(i) + ";Family;Given\n";
    CHECK(ck::parse_roster_csv(text).accepted.size() == 50000);

    const std::string open_quote = "id,family_name,given_name\n1,\"" + std::string(2000000, 'q');
    const ck::RosterImport import = ck::parse_roster_csv(open_quote);
    CHECK(rejections(import) == std::vector<Rejection>{{2, "unterminated_quote"}});
}

TEST_CASE("parse_roster_entry: one attendee by the rules of a JSON roster's row")
{
    ck::RosterImport ok = ck::parse_roster_entry(
        json{{"id", " W1 "}, {"family_name", "Novák"}, {"given_name", "Tomáš"}, {"x", 1}});
    REQUIRE(ok.accepted.size() == 1);
    CHECK(ok.rejected.empty());
    CHECK(ok.accepted[0].id == "W1");
    CHECK(ok.accepted[0].family_name == "Novák");

    struct Case {
        json entry;
        const char* code;
        const char* field;
    };
    const Case cases[] = {
        {json::array(), "wrong_type", ""},
        {json{{"family_name", "F"}, {"given_name", "G"}}, "missing_field", "id"},
        {json{{"id", "W 1"}, {"family_name", "F"}, {"given_name", "G"}}, "invalid_id", "id"},
        {json{{"id", "W1"}, {"family_name", 5}, {"given_name", "G"}}, "wrong_type", "family_name"},
        {json{{"id", "W1"}, {"family_name", "F"}, {"given_name", "G"}, {"email", "a b"}},
         "invalid_email", "email"},
    };
    for (const Case& c : cases) {
        CAPTURE(c.entry.dump());
        ck::RosterImport bad = ck::parse_roster_entry(c.entry);
        CHECK(bad.accepted.empty());
        REQUIRE(bad.rejected.size() == 1);
        CHECK(bad.rejected[0].line == 1);
        CHECK(bad.rejected[0].code == c.code);
        CHECK(bad.rejected[0].field == c.field);
    }
}

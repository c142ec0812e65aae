// core/text_fold.hpp: names match the way people type them, on a phone or on another
// country's keyboard.
#include "core/text_fold.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

namespace {

// Whether a typed text is the name as the roster has it: what phone identification asks.
bool typed_matches(const std::string& roster, const std::string& typed)
{
    return ck::same_name(roster, typed);
}

}  // namespace

TEST_CASE("fold_for_match: the primary key, Latin letters and digits in lower case")
{
    struct Case {
        std::string input;
        std::string folded;
    };
    const Case cases[] = {
        {"Müller", "muller"},
        {"MÜLLER", "muller"},
        {"  Ó  Briain ", "obriain"},
        {"O'Brien-Smith", "obriensmith"},
        {"O\u2019Brien", "obrien"},  // the typographic apostrophe of phones
        {"Jean-Luc", "jeanluc"},
        {"CHLOÉ", "chloe"},
        {"Straße", "strasse"},
        {"Þórdís", "thordis"},
        {"ŁUKASIK", "lukasik"},
        {"Æbelø", "aebelo"},
        {"Œuvray", "oeuvray"},
        {"Đorđe", "dorde"},
        {"Ĳsselmuiden", "ijsselmuiden"},  // the Dutch ligature
        {"Mu\u0308ller", "muller"},       // decomposed, as some keyboards send it
        {"Αθήνα", "athina"},
        {"ΠΑΠΑΔΌΠΟΥΛΟΣ", "papadopoulos"},
        {"София", "sofia"},
        {"Жечев", "zhechev"},
        {"ECNR-77", "ecnr77"},
        {"A.001_b", "a001b"},
        {"×", ""},
        {"\xff\xfe", ""},  // stray bytes are not letters
        {"", ""},
    };
    for (const auto& c : cases) {
        CAPTURE(c.input);
        CHECK(ck::fold_for_match(c.input) == c.folded);
    }
}

TEST_CASE("fold_variants: the primary key first, the other spellings once each")
{
    struct Case {
        std::string input;
        std::vector<std::string> keys;
    };
    const Case cases[] = {
        {"Kowalska", {"kowalska"}},
        {"Müller", {"muller", "mueller"}},
        {"Ødegård", {"odegard", "oedegaard"}},
        {"Đurđević", {"durdevic", "djurdjevic"}},
        {"Erdős", {"erdos", "erdoes"}},
        {"Δημήτρης", {"dimitris", "demetres"}},  // UNGEGN, then ICU's scholarly Any-Latin
        {"Христо Стоичков", {"hristostoichkov", "hristostoickov"}},  // Bulgaria's, then ISO 9
        {"Lefèvre", {"lefevre"}},                                    // no other spelling
        {"'- ", {}},
        {"", {}},
    };
    for (const auto& c : cases) {
        CAPTURE(c.input);
        const ck::NameKeys names = ck::fold_variants(c.input);
        CHECK(names.keys == c.keys);
        if (!names.keys.empty()) CHECK(names.keys.front() == ck::fold_for_match(c.input));
    }
}

TEST_CASE("names of the 24 official languages of the EU match as people type them")
{
    struct Case {
        std::string language;
        std::string roster;  // as the registry spells it
        std::string typed;   // as someone types it without the letters, or with others
    };
    const Case cases[] = {
        {"Bulgarian", "Христо Стоичков", "Hristo Stoichkov"},
        {"Bulgarian", "Йорданка Цветкова", "Yordanka Tsvetkova"},
        {"Bulgarian", "Щерева", "SHTEREVA"},
        {"Bulgarian", "Ъгълова", "Agalova"},
        {"Bulgarian", "Юлиян Жечев", "yuliyan zhechev"},
        {"Bulgarian", "Мария", "Maria"},                      // -ия at the end: ia
        {"Bulgarian", "Христо Стоичков", "Hristo Stoickov"},  // ISO 9, without its carons
        {"Croatian", "Đurđević", "Durdevic"},
        {"Croatian", "Đurđević", "Djurdjevic"},
        {"Croatian", "Čačić", "cacic"},
        {"Czech", "Dvořák", "Dvorak"},
        {"Czech", "Jiří Šťastný", "jiri stastny"},
        {"Danish", "Søren Jørgensen", "Soren Jorgensen"},
        {"Danish", "Søren Jørgensen", "Soeren Joergensen"},
        {"Danish", "Ærbø", "Aerboe"},
        {"Danish", "Åberg", "Aaberg"},
        {"Dutch", "IJsbrand van 't Hof", "ijsbrand vant hof"},
        {"Dutch", "Ĳzerman", "IJzerman"},
        {"Dutch", "d'Hondt", "DHondt"},
        {"English", "O'Neill", "oneill"},
        {"English", "Smith-Jones", "smith jones"},
        {"Estonian", "Õunapuu", "Ounapuu"},
        {"Estonian", "Mägi", "Maegi"},
        {"Estonian", "Üllar", "Ullar"},
        {"Finnish", "Hämäläinen", "Hamalainen"},
        {"Finnish", "Hämäläinen", "Haemaelaeinen"},
        {"French", "François Lefèvre", "francois lefevre"},
        {"French", "Cœurdevey", "Coeurdevey"},
        {"French", "Saint-Exupéry", "saint exupery"},
        {"French", "Anaïs", "ANAIS"},
        {"German", "Müller", "Muller"},
        {"German", "Müller", "Mueller"},
        {"German", "Mueller", "Müller"},  // the roster without the letter, typed with it
        {"German", "Weiß", "Weiss"},
        {"German", "Günther Schröder", "Guenther Schroeder"},
        {"Greek", "Παπαδόπουλος", "Papadopoulos"},
        {"Greek", "Δημήτρης", "Dimitris"},
        {"Greek", "Χρήστος", "Christos"},
        {"Greek", "Βασιλείου", "Vasileiou"},
        {"Greek", "Ευάγγελος", "Evangelos"},
        {"Greek", "ΓΕΏΡΓΙΟΣ", "Georgios"},
        {"Hungarian", "Erdős", "Erdos"},
        {"Hungarian", "Erdős", "Erdoes"},
        {"Hungarian", "Szűcs Kovács", "szucs kovacs"},
        {"Irish", "Ó Briain", "O'Briain"},
        {"Irish", "Ó Briain", "obriain"},
        {"Irish", "Ní Dhomhnaill", "Ni Dhomhnaill"},
        {"Italian", "D'Alessandro", "D Alessandro"},
        {"Italian", "Niccolò", "Niccolo"},
        {"Latvian", "Bērziņš", "Berzins"},
        {"Latvian", "Ķēniņa", "Kenina"},
        {"Lithuanian", "Žemaitytė", "Zemaityte"},
        {"Lithuanian", "Ąžuolas", "Azuolas"},
        {"Maltese", "Ċensu Żammit", "Censu Zammit"},
        {"Maltese", "Ħabib Borġ", "habib borg"},
        {"Polish", "Łukasz Wałęsa", "Lukasz Walesa"},
        {"Polish", "Małgorzata Żółkiewska", "malgorzata zolkiewska"},
        {"Portuguese", "João Gonçalves", "Joao Goncalves"},
        {"Portuguese", "Conceição Simões", "Conceicao Simoes"},
        {"Romanian", "Ștefan Țurcanu", "Stefan Turcanu"},  // comma below
        {"Romanian", "Şerban Ţiriac", "Serban Tiriac"},    // cedilla, as older keyboards type it
        {"Romanian", "Brâncuși", "Brancusi"},
        {"Slovak", "Ľubomír Ďurica", "Lubomir Durica"},
        {"Slovak", "Kňažko", "knazko"},
        {"Slovene", "Žiga Šušteršič", "Ziga Sustersic"},
        {"Spanish", "José Ángel Muñoz", "jose angel munoz"},
        {"Spanish", "Peña", "PENA"},
        {"Swedish", "Åström", "Astrom"},
        {"Swedish", "Åström", "Aastroem"},
        {"Swedish", "Björn Öberg", "Bjoern Oeberg"},
    };
    for (const Case& c : cases) {
        CAPTURE(c.language);
        CAPTURE(c.roster);
        CAPTURE(c.typed);
        CHECK(typed_matches(c.roster, c.typed));
        CHECK(typed_matches(c.typed, c.roster));  // either side may be the one with the letters
    }
}

TEST_CASE("case, apostrophes, hyphens and spaces do not matter; different names do not match")
{
    struct Case {
        std::string a;
        std::string b;
        bool same;
    };
    const Case cases[] = {
        {"KOWALSKA", "kowalska", true},
        {"Kowalska", "kOwAlSkA", true},
        {"O'Brien", "obrien", true},
        {"O'Brien", "O Brien", true},
        {"Jean-Luc", "jean luc", true},
        {"Jean-Luc", "JeanLuc", true},
        {"  van der Berg  ", "Vanderberg", true},
        {"Müller", "Mu\u0308ller", true},  // composed and decomposed
        // Different names.
        {"Müller", "Miller", false},
        {"Müller", "Möller", false},
        {"Müller", "Moeller", false},
        {"Mueller", "Muller", false},  // neither has the letter: two spellings, two names
        {"Kowalska", "Kowalski", false},
        {"Papadopoulos", "Παπαδοπούλου", false},
        {"Иванов", "Ivanova", false},
        {"Đurđević", "Đurić", false},
        {"Ó Briain", "O'Brien", false},
        {"Åström", "Ostrom", false},
        {"Jørgensen", "Jergensen", false},
        {"Anna", "Anna2", false},
        // Nothing to compare: nothing matches.
        {"", "", false},
        {"'", "-", false},
        {"Müller", "", false},
    };
    for (const Case& c : cases) {
        CAPTURE(c.a);
        CAPTURE(c.b);
        CHECK(ck::same_name(c.a, c.b) == c.same);
        CHECK(ck::same_name(c.b, c.a) == c.same);
    }
}

TEST_CASE("contains_name: a search is inside a field, or both names read together")
{
    const ck::NameKeys given = ck::fold_variants("Jörg");
    const ck::NameKeys family = ck::fold_variants("Müller-Lüdenscheidt");
    const ck::NameKeys both = ck::concat_keys(given, family);
    CHECK(both.keys ==
          std::vector<std::string>{"jorgmullerludenscheidt", "jorgmuellerluedenscheidt",
                                   "joergmullerludenscheidt", "joergmuellerluedenscheidt"});
    struct Case {
        std::string query;
        bool found;
    };
    const Case cases[] = {
        {"müll", true},   {"muell", true},         {"MULL", true},   {"lüden", true},
        {"jorg m", true}, {"Joerg Mueller", true}, {"org-mu", true}, {"miller", false},
        {"möll", false},  {"jürg", false},
    };
    for (const Case& c : cases) {
        CAPTURE(c.query);
        CHECK(ck::contains_name(both, ck::fold_variants(c.query)) == c.found);
    }
    CHECK_FALSE(ck::contains_name(both, ck::fold_variants("  ")));  // no keys: inside nothing
    CHECK(ck::concat_keys(given, ck::fold_variants("")).keys == given.keys);
    CHECK(ck::concat_keys(ck::fold_variants("-"), family).keys == family.keys);
}

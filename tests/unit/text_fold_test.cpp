#include "core/text_fold.hpp"

#include <doctest/doctest.h>

#include <string>

TEST_CASE("fold_for_match makes typed names comparable")
{
    struct Case {
        const char* input;
        const char* folded;
    };
    const Case cases[] = {
        {"Müller", "müller"},
        {"MÜLLER", "müller"},
        {"  Ó  Briain ", "ó briain"},
        {"CHLOÉ", "chloé"},
        {"ŁUKASIK", "łukasik"},  // Ł U+0141 -> ł U+0142 (odd-start range)
        {"DVOŘÁK", "dvořák"},    // Ř U+0158 -> ř U+0159
        {"BĒRZIŅŠ", "bērziņš"},  // Ē, Ņ, Š
        {"ŽIŽEK", "žižek"},      // Ž U+017D -> ž U+017E
        {"ŸVES", "ÿves"},
        {"×", "×"},  // not a letter
        {"YILMAZ", "yilmaz"},
        {"Αθήνα", "Αθήνα"},        // Greek: left as is (not folded, not broken)
        {"\xff\xfe", "\xff\xfe"},  // stray bytes kept
        {"", ""},
    };
    for (const auto& c : cases) {
        CAPTURE(c.input);
        CHECK(ck::fold_for_match(c.input) == std::string(c.folded));
    }
}

// Names and registration numbers as people type them, for matching: on a phone or on a
// keyboard of another country, without accents, in any case, with or without the
// apostrophes, hyphens and spaces. "Müller" is "muller" and "mueller", "O'Brien" is
// "obrien", "Jean-Luc" is "jeanluc", "Παπαδόπουλος" is "papadopoulos", "Христо" is "hristo".
//
// The folding is ICU's (transliterators, NFC, lower case); the tables written here are only
// what ICU lacks: Bulgarian's official romanisation (the Transliteration Act of 2009: ж zh,
// щ sht, ъ a, "-ия" at a word's end ia) and the way German and Scandinavian names are
// written without their letters (ü ue, ö oe, ä ae, ø oe, å aa; with ő oe, ű ue, đ dj).
// Pure-ASCII text does not reach ICU. Thread-safe: every thread has its own
// transliterators. ICU's own errors (its data missing) throw std::runtime_error.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace ck {

// The primary key: the text in Latin letters (Greek by ICU's UNGEGN romanisation, ELOT 743
// as Greek passports spell names; Bulgarian by its official system; any other script by
// ICU's Any-Latin), without diacritics (ICU's Latin-ASCII: ß ss, ł l, æ ae, þ th, đ d),
// in lower case, and only [a-z0-9] kept. "" when there is no letter or digit in it.
std::string fold_for_match(std::string_view utf8);

// The keys one text is known by: the primary key first, then the other spellings it has
// (the German and Scandinavian one, when it has those letters; ICU's scholarly Any-Latin,
// when it has letters of another script than Latin), each once and none empty. At most 3.
struct NameKeys {
    std::vector<std::string> keys;
};
NameKeys fold_variants(std::string_view utf8);

// Whether a typed name is a stored one: any key of one equals any key of the other (so
// "Mueller" typed finds "Müller", and "Müller" typed finds "Mueller"). Texts without keys
// (nothing but punctuation) match nothing.
bool same_name(const NameKeys& a, const NameKeys& b);
bool same_name(std::string_view a, std::string_view b);

// Whether a search finds a field: any key of `query` is inside any key of `field`. An
// empty query (no keys) is inside nothing; callers decide what an empty search shows.
bool contains_name(const NameKeys& field, const NameKeys& query);

// The keys of two fields read one after the other ("Anna" then "Kowalska": "annakowalska"),
// every key of `first` followed by every key of `second`.
NameKeys concat_keys(const NameKeys& first, const NameKeys& second);

}  // namespace ck

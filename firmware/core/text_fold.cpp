#include "core/text_fold.hpp"

#include <unicode/normalizer2.h>
#include <unicode/translit.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>
#include <unicode/uscript.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <stdexcept>

namespace ck {
namespace {

// Bulgarian, as the Transliteration Act of 2009 romanises it (and Bulgarian passports
// print it); ICU's Any-Latin follows ISO 9 (ж ž, ц c) and its Bulgarian-Latin/BGN the older
// BGN system (х kh, й i). The text is lower case here. Cyrillic letters that Bulgarian
// lacks (ы, э, ё, і...) are left to Any-Latin.
constexpr const char16_t* kBulgarian =
    u"ия } [^[:L:][:M:]] → ia ; ия } $ → ia ;"
    u"а → a ; б → b ; в → v ; г → g ; д → d ; е → e ; ж → zh ; з → z ; и → i ; й → y ;"
    u"к → k ; л → l ; м → m ; н → n ; о → o ; п → p ; р → r ; с → s ; т → t ; у → u ;"
    u"ф → f ; х → h ; ц → ts ; ч → ch ; ш → sh ; щ → sht ; ъ → a ; ь → y ; ю → yu ;"
    u"я → ya ;";

// Every other script to Latin, then the Latin letters to ASCII.
constexpr const char16_t* kToAscii = u"::Greek-Latin/UNGEGN ; ::Any-Latin ; ::Latin-ASCII ;";

// Letters that German, the Scandinavian languages, Hungarian and Croatian names are
// written with on a keyboard without them (the lower case text): the other key.
constexpr const char16_t* kLetterPairs =
    u"ä → ae ; ö → oe ; ü → ue ; ø → oe ; å → aa ; ő → oe ; ű → ue ; đ → dj ;";

bool has_letter_pair(UChar32 c)
{
    switch (u_tolower(c)) {
        case u'ä':
        case u'ö':
        case u'ü':
        case u'ø':
        case u'å':
        case u'ő':
        case u'ű':
        case u'đ':
            return true;
        default:
            return false;
    }
}

bool is_other_script(UChar32 c)
{
    UErrorCode status = U_ZERO_ERROR;
    UScriptCode script = uscript_getScript(c, &status);
    return U_SUCCESS(status) && script != USCRIPT_LATIN && script != USCRIPT_COMMON &&
           script != USCRIPT_INHERITED;
}

enum class Spelling { primary, letter_pairs, scholarly };

std::unique_ptr<icu::Transliterator> make_transliterator(Spelling spelling)
{
    icu::UnicodeString rules(u"::NFC ; ::Lower ;");
    switch (spelling) {
        case Spelling::primary:
            rules.append(icu::UnicodeString(kBulgarian)).append(icu::UnicodeString(kToAscii));
            break;
        case Spelling::letter_pairs:
            rules.append(icu::UnicodeString(kLetterPairs))
                .append(icu::UnicodeString(kBulgarian))
                .append(icu::UnicodeString(kToAscii));
            break;
        case Spelling::scholarly:
            rules.append(u"::Any-Latin ; ::Latin-ASCII ;");
            break;
    }
    UParseError where{};
    UErrorCode status = U_ZERO_ERROR;
    std::unique_ptr<icu::Transliterator> t(
        icu::Transliterator::createFromRules("ck-fold", rules, UTRANS_FORWARD, where, status));
    if (U_FAILURE(status) || !t) {
        throw std::runtime_error(std::string("ICU transliterator for name folding: ") +
                                 u_errorName(status) + " at rule offset " +
                                 std::to_string(where.offset));
    }
    return t;
}

// One prototype per spelling, made once (parsing the rules is the costly part), and a
// clone of it per thread: ICU transliterators are not to be shared between threads.
const icu::Transliterator& transliterator(Spelling spelling)
{
    static const std::unique_ptr<icu::Transliterator> prototypes[] = {
        make_transliterator(Spelling::primary), make_transliterator(Spelling::letter_pairs),
        make_transliterator(Spelling::scholarly)};
    thread_local const std::unique_ptr<icu::Transliterator> mine[] = {
        std::unique_ptr<icu::Transliterator>(prototypes[0]->clone()),
        std::unique_ptr<icu::Transliterator>(prototypes[1]->clone()),
        std::unique_ptr<icu::Transliterator>(prototypes[2]->clone())};
    const auto& t = mine[static_cast<int>(spelling)];
    if (!t) throw std::runtime_error("ICU transliterator for name folding: clone failed");
    return *t;
}

icu::UnicodeString to_unicode(std::string_view s)
{
    // Names are short; anything beyond 2 GiB would not be a name.
    auto size = static_cast<int32_t>(std::min<std::size_t>(s.size(), INT32_MAX));
    return icu::UnicodeString::fromUTF8(icu::StringPiece(s.data(), size));
}

bool is_ascii(std::string_view s)
{
    return std::all_of(s.begin(), s.end(),
                       [](char ch) { return static_cast<unsigned char>(ch) < 0x80; });
}

// ASCII letters in lower case and digits; everything else (spaces, apostrophes, hyphens,
// what no transliterator turned into a letter) is dropped.
std::string ascii_key(std::string_view s)
{
    std::string key;
    key.reserve(s.size());
    for (char ch : s) {
        if (ch >= 'A' && ch <= 'Z') {
            key.push_back(static_cast<char>(ch - 'A' + 'a'));
        } else if ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9')) {
            key.push_back(ch);
        }
    }
    return key;
}

std::string key_of(const icu::UnicodeString& text, Spelling spelling)
{
    icu::UnicodeString copy(text);
    transliterator(spelling).transliterate(copy);
    std::string utf8;
    copy.toUTF8String(utf8);
    return ascii_key(utf8);
}

void add_key(NameKeys& names, std::string key)
{
    if (key.empty()) return;
    if (std::find(names.keys.begin(), names.keys.end(), key) != names.keys.end()) return;
    names.keys.push_back(std::move(key));
}

}  // namespace

std::string fold_for_match(std::string_view s)
{
    if (is_ascii(s)) return ascii_key(s);
    return key_of(to_unicode(s), Spelling::primary);
}

NameKeys fold_variants(std::string_view s)
{
    NameKeys names;
    if (is_ascii(s)) {
        add_key(names, ascii_key(s));
        return names;
    }
    icu::UnicodeString text = to_unicode(s);
    UErrorCode status = U_ZERO_ERROR;
    const icu::Normalizer2* nfc = icu::Normalizer2::getNFCInstance(status);
    if (U_SUCCESS(status)) text = nfc->normalize(text, status);
    if (U_FAILURE(status)) {
        throw std::runtime_error(std::string("ICU normalisation for name folding: ") +
                                 u_errorName(status));
    }
    bool letter_pairs = false;
    bool other_script = false;
    for (int32_t i = 0; i < text.length(); i = text.moveIndex32(i, 1)) {
        UChar32 c = text.char32At(i);
        letter_pairs = letter_pairs || has_letter_pair(c);
        other_script = other_script || is_other_script(c);
    }
    add_key(names, key_of(text, Spelling::primary));
    if (letter_pairs) add_key(names, key_of(text, Spelling::letter_pairs));
    if (other_script) add_key(names, key_of(text, Spelling::scholarly));
    return names;
}

bool same_name(const NameKeys& a, const NameKeys& b)
{
    for (const std::string& x : a.keys) {
        if (std::find(b.keys.begin(), b.keys.end(), x) != b.keys.end()) return true;
    }
    return false;
}

bool same_name(std::string_view a, std::string_view b)
{
    return same_name(fold_variants(a), fold_variants(b));
}

bool contains_name(const NameKeys& field, const NameKeys& query)
{
    for (const std::string& q : query.keys) {
        for (const std::string& key : field.keys) {
            if (key.find(q) != std::string::npos) return true;
        }
    }
    return false;
}

NameKeys concat_keys(const NameKeys& first, const NameKeys& second)
{
    if (first.keys.empty()) return second;
    if (second.keys.empty()) return first;
    NameKeys both;
    for (const std::string& a : first.keys) {
        for (const std::string& b : second.keys) add_key(both, a + b);
    }
    return both;
}

}  // namespace ck

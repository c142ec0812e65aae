// The staff's search of the roster (GET /api/v1/attendees?q=, the dashboard's Attendance
// and Today tabs): an attendee is found when the query, folded the way people type it
// (core/text_fold.hpp: no accents, any case, apostrophes, hyphens and spaces ignored,
// Greek and Cyrillic as Latin), is inside their registration number, their family or given
// name, or both names in either order ("anna kow", "kowalska a").
//
// Folding 10,000 names with ICU takes tens of milliseconds on a laptop and several times
// that on a Pi, for every search; so the folded keys of each attendee are kept from one
// search to the next, by registration number, and made again only when the names change.
// Attendees are never removed from a roster, so the keys kept are bounded by its size.
// Thread-safe; the roster is matched one attendee at a time (app/attendee_list.hpp reads
// it in pieces), never as a whole list in memory.
#pragma once

#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/roster.hpp"
#include "core/text_fold.hpp"

namespace ck {

class AttendeeSearch {
public:
    // A query folded once for the whole scan of the roster.
    struct Query {
        NameKeys folded;
        // Without a letter or digit (empty, or only spaces and punctuation, which matching
        // ignores) a query finds everyone.
        bool finds_everyone() const { return folded.keys.empty(); }
    };
    static Query fold(std::string_view text) { return {fold_variants(text)}; }

    // Whether `query` finds `attendee`.
    bool matches(const Attendee& attendee, const Query& query);

private:
    struct Entry {
        std::string family_name;  // the names the keys were folded from
        std::string given_name;
        NameKeys keys;
    };
    std::mutex mutex_;
    std::unordered_map<std::string, Entry> entries_;  // by registration number
};

}  // namespace ck

// The staff's search of the roster (GET /api/v1/attendees?q=, the dashboard's Attendance
// and Today tabs): an attendee is found when the query, folded the way people type it
// (core/text_fold.hpp: no accents, any case, apostrophes, hyphens and spaces ignored,
// Greek and Cyrillic as Latin), is inside their registration number, their family or given
// name, or both names in either order ("anna kow", "kowalska a").
//
// Folding 10,000 names with ICU takes tens of milliseconds on a laptop and several times
// that on a Pi, for every search; so the folded keys of each attendee are kept from one
// search to the next, by registration number, and made again only when the names change.
// Thread-safe (one search at a time); holds the keys of the last roster searched.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/roster.hpp"
#include "core/text_fold.hpp"

namespace ck {

class AttendeeSearch {
public:
    // The attendees of `roster` (the whole roster, as the store lists it) that `query`
    // finds, in their order. A query without a letter or digit (empty, or only spaces and
    // punctuation, which matching ignores) finds everyone.
    std::vector<Attendee> find(std::vector<Attendee> roster, std::string_view query);

private:
    struct Entry {
        std::string family_name;  // the names the keys were folded from
        std::string given_name;
        NameKeys keys;
        std::uint64_t searched = 0;  // the last search that saw this attendee
    };
    std::mutex mutex_;
    std::unordered_map<std::string, Entry> entries_;  // by registration number
    std::uint64_t searches_ = 0;
};

}  // namespace ck

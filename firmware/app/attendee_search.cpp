#include "app/attendee_search.hpp"

namespace ck {
namespace {

// The registration number's key, then both names in either order: a query inside one name
// alone is inside both of these too.
NameKeys search_keys(const Attendee& a)
{
    NameKeys given = fold_variants(a.given_name);
    NameKeys family = fold_variants(a.family_name);
    NameKeys keys = fold_variants(a.id);
    for (NameKeys both : {concat_keys(given, family), concat_keys(family, given)}) {
        for (std::string& key : both.keys) keys.keys.push_back(std::move(key));
    }
    return keys;
}

}  // namespace

std::vector<Attendee> AttendeeSearch::find(std::vector<Attendee> roster, std::string_view query)
{
    const NameKeys folded = fold_variants(query);
    if (folded.keys.empty()) return roster;
    std::vector<Attendee> found;
    std::lock_guard lock(mutex_);
    const std::uint64_t search = ++searches_;
    for (Attendee& a : roster) {
        Entry& entry = entries_[a.id];
        if (entry.searched == 0 || entry.family_name != a.family_name ||
            entry.given_name != a.given_name) {
            entry = {a.family_name, a.given_name, search_keys(a), 0};
        }
        entry.searched = search;
        if (contains_name(entry.keys, folded)) found.push_back(std::move(a));
    }
    // Attendees no longer in the roster.
    if (entries_.size() > roster.size()) {
        std::erase_if(entries_, [search](const auto& e) { return e.second.searched != search; });
    }
    return found;
}

}  // namespace ck

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

bool AttendeeSearch::matches(const Attendee& a, const Query& query)
{
    if (query.finds_everyone()) return true;
    std::lock_guard lock(mutex_);
    auto it = entries_.find(a.id);
    if (it == entries_.end()) {
        it = entries_.emplace(a.id, Entry{a.family_name, a.given_name, search_keys(a)}).first;
    } else if (it->second.family_name != a.family_name || it->second.given_name != a.given_name) {
        it->second = {a.family_name, a.given_name, search_keys(a)};
    }
    return contains_name(it->second.keys, query.folded);
}

}  // namespace ck

#include "app/attendee_list.hpp"

#include <algorithm>

#include "app/device.hpp"

namespace ck {
namespace {

bool has_valid_checkin(const std::vector<CheckinRecord>& checkins, const std::string& session_id)
{
    return std::any_of(checkins.begin(), checkins.end(), [&](const CheckinRecord& c) {
        return !c.voided && c.session_id == session_id;
    });
}

}  // namespace

AttendeePage list_attendees(const Device& device, AttendeeSearch& search,
                            const AttendeeQuery& query)
{
    const Store& store = *device.store;
    const std::size_t limit = std::clamp<std::size_t>(query.limit, 1, kAttendeePageMax);
    const AttendeeSearch::Query folded = AttendeeSearch::fold(query.text);
    const bool by_presence = query.present.has_value() && !query.session_id.empty();
    AttendeePage page;
    page.total = store.attendee_count();

    if (folded.finds_everyone() && !by_presence) {
        // No filter: the page is the next `limit` attendees, and one more says whether
        // another page follows.
        for (Attendee& a : store.attendees_after(query.cursor, limit + 1)) {
            if (page.rows.size() == limit) {
                page.next = page.rows.back().attendee.id;
                break;
            }
            auto checkins = store.checkins_of_attendee(a.id);
            page.rows.push_back({std::move(a), std::move(checkins)});
        }
        page.matched = page.total;
        return page;
    }

    // Filtered: the whole roster is matched, piece by piece, to count the matches; only
    // the page's rows are kept.
    std::string after;
    for (;;) {
        std::vector<Attendee> piece = store.attendees_after(after, kAttendeePiece);
        if (piece.empty()) break;
        const bool last_piece = piece.size() < kAttendeePiece;
        after = piece.back().id;  // before the rows take the attendees
        for (Attendee& a : piece) {
            if (!search.matches(a, folded)) continue;
            std::vector<CheckinRecord> checkins;
            if (by_presence) {
                checkins = store.checkins_of_attendee(a.id);
                if (has_valid_checkin(checkins, query.session_id) != *query.present) continue;
            }
            ++page.matched;
            if (!query.cursor.empty() && a.id <= query.cursor) continue;
            if (page.rows.size() == limit) {
                if (!page.next) page.next = page.rows.back().attendee.id;
                continue;
            }
            if (!by_presence) checkins = store.checkins_of_attendee(a.id);
            page.rows.push_back({std::move(a), std::move(checkins)});
        }
        if (last_piece) break;
    }
    return page;
}

}  // namespace ck

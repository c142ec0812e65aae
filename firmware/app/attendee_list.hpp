// The staff's attendee list (GET /api/v1/attendees), one page at a time: the roster in
// registration-number order, optionally narrowed by the search (app/attendee_search.hpp)
// and by presence in one session, with each attendee's check-ins.
//
// A page holds at most `limit` attendees; `next` names where the following page starts
// (pass it back as `cursor`), nullopt on the last page. The store is read in pieces of
// kAttendeePiece attendees, each in its own short read transaction, so a page's memory is
// bounded by its limit whatever the size of the roster (issue 14, item 14: 10,000
// attendees). A cursor is an attendee id: pages stay consistent while attendees are added.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "app/attendee_search.hpp"
#include "core/roster.hpp"
#include "store/store.hpp"

namespace ck {

class Device;

inline constexpr std::size_t kAttendeePageDefault = 200;
inline constexpr std::size_t kAttendeePageMax = 1000;
inline constexpr std::size_t kAttendeePiece = 500;

struct AttendeeQuery {
    std::string text;             // q: the search; empty finds everyone
    std::string session_id;       // with `present`: only those with (true) or without (false) a
    std::optional<bool> present;  // valid check-in in that session
    std::string cursor;           // a page's `next`; empty: the first page
    std::size_t limit = kAttendeePageDefault;  // 1 .. kAttendeePageMax
};

struct AttendeeRow {
    Attendee attendee;
    std::vector<CheckinRecord> checkins;  // all of them, voided ones included
};

struct AttendeePage {
    std::vector<AttendeeRow> rows;
    std::size_t total = 0;    // the whole roster
    std::size_t matched = 0;  // those the query finds, on every page
    std::optional<std::string> next;
};

AttendeePage list_attendees(const Device& device, AttendeeSearch& search,
                            const AttendeeQuery& query);

}  // namespace ck

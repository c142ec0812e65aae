// Presence mode on the staff dashboard (SPEC section 10): who is inside a session now and
// who left before its end, from the session's records, by the core's rules
// (core/presence.hpp), so the dashboard, the exports and the registry count the same minutes.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/presence.hpp"
#include "core/schedule.hpp"

namespace ck {

class Device;

struct SessionPresenceRow {
    std::string attendee_id;
    SessionPresence presence;        // until `now` for one still inside
    std::optional<Instant> left_at;  // the last exit, when the attendee is outside
    bool left_early = false;         // outside, having left before the session's end
};

struct SessionPresenceReport {
    std::vector<SessionPresenceRow> rows;  // everyone scanned in the session, by id
    int entered = 0;                       // attendees with an entry
    int inside = 0;
    int left_early = 0;
    int attended = 0;  // minutes present reach min_presence_pct (so far)
};

SessionPresenceReport session_presence_report(const Device& device, const ResolvedSession& session,
                                              Instant now);

}  // namespace ck

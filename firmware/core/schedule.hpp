// Where an instant falls in a module's timetable, in the module's time zone.
//
// Sessions are resolved once to UTC instants, so daylight-saving changes are handled by
// the tz library at construction and every later question is a comparison of instants.
#pragma once

#include <string_view>
#include <vector>

#include "core/module.hpp"
#include "core/time.hpp"

namespace ck {

struct ResolvedSession {
    const SessionSpec* spec = nullptr;
    int day_index = 0;  // index into ModuleEdition::days
    Instant start;
    Instant end;
    Instant window_opens;  // start - checkin_opens_before_min
    Instant late_after;    // start + late_after_min; a check-in after this is late
};

class Schedule {
public:
    // `module` must outlive the Schedule.
    explicit Schedule(const ModuleEdition& module);

    const ModuleEdition& module() const { return *module_; }
    // Every session of every day, in time order.
    const std::vector<ResolvedSession>& sessions() const { return sessions_; }

    // The session whose check-in window [window_opens, end) contains `t`, or nullptr.
    // When windows overlap, a session that has started wins over one that has not.
    const ResolvedSession* open_session(Instant t) const;
    // The first session whose window opens after `t`, or nullptr.
    const ResolvedSession* next_session(Instant t) const;
    const ResolvedSession* find(std::string_view session_id) const;

    // The one rule for "late" (SPEC section 2): a check-in at `t` more than late_after_min
    // after the session's start, while its window is still open. A check-in recorded
    // outside the window (staff correcting the record afterwards) is never late.
    static bool is_late(const ResolvedSession& session, Instant t)
    {
        return t > session.late_after && t >= session.window_opens && t < session.end;
    }
    // End of the last session (when the module closes automatically).
    Instant module_end() const;

private:
    const ModuleEdition* module_;
    std::vector<ResolvedSession> sessions_;
};

}  // namespace ck

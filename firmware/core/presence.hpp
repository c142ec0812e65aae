// Presence mode (SPEC section 10): the minutes an attendee spent in a session, from their
// entry and exit scans, and the EACCME credits for those minutes ("only those hours of
// credit actually spent"). Pure: scans and the session's instants in, minutes out; the
// device and the registry call the same functions, so they cannot disagree.
//
// How scans become intervals (the rules a test table holds, tests/unit/presence_test.cpp):
// 1. The caller leaves out voided scans and the exits of voided entries.
// 2. An exit timed before the very entry it closed (the device's clock was set back
//    between them) counts nothing: the pair is left out and counted in out_of_order.
// 3. The rest, in time order, toggle: the first scan enters, the next leaves, and so on,
//    whatever each device thought it was. Two doors with a kiosk each, neither knowing
//    what the other saw: entering at one and leaving by the other is one interval.
// 4. A scan within rescan_grace_s of the previous one (a double scan on two kiosks) is
//    left out, unless staff recorded it by hand.
// 5. An entry with no exit lasts until the session's end (or `now`, for a live view):
//    no_exit, counted only when count_missing_exit says so.
// 6. Intervals are clipped to the session's start and end; the minutes present are their
//    sum (they do not overlap), in whole minutes.
// 7. Attended once the minutes reach min_presence_pct of the session's length; credits are
//    0.5 per 30 minutes present, at most the session's cme_hours and 3 (a half-day), and
//    at most 6 a day over a day's sessions.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/module.hpp"
#include "core/schedule.hpp"
#include "core/time.hpp"

namespace ck {

struct PresenceScan {
    std::string id;  // the event's id
    Instant at;
    bool exit = false;     // recorded as a checkout
    std::string entry_id;  // exit: the entry it closed, as its device saw it
    bool manual = false;   // recorded by staff: never a double scan
};

struct PresenceInterval {
    Instant entered;              // as scanned
    std::optional<Instant> left;  // as scanned; none: no exit (yet)
    Instant from;                 // clipped to the session (and to `now`)
    Instant to;
    std::string entry_id;
    std::string exit_id;  // empty: no exit
    bool counted = true;  // false: a missing exit that count_missing_exit leaves out
    int seconds() const;
};

struct SessionPresence {
    std::vector<PresenceInterval> intervals;  // in time order, not overlapping
    int minutes_present = 0;
    int minutes_total = 0;  // the session's length
    bool inside = false;    // the last scan left the attendee inside
    bool no_exit = false;   // an interval lacks its exit and the session has ended
    int out_of_order = 0;   // exit-before-entry pairs left out (rule 2)
    bool attended = false;
    std::optional<Instant> attended_at;  // when the minutes present reached the threshold
    double credits = 0;                  // this session's, before the day's cap
};

// Credits for `minutes` present in a session of `cme_hours`: 0.5 per whole 30 minutes, at
// most cme_hours (rounded down to 0.5) and at most 3.
double presence_credits(int minutes, double cme_hours);

// The attendee's presence in `session` from their scans in it, of every device (rules
// 2-7; rule 1 is the caller's). With `now`, a stay without exit counts until `now` if that
// is before the session's end, and is not yet no_exit.
SessionPresence session_presence(const ModuleEdition& module, const ResolvedSession& session,
                                 std::vector<PresenceScan> scans,
                                 std::optional<Instant> now = std::nullopt);

// One session's presence as staff see it: {"minutes_present","minutes_total","attended",
// "inside","no_exit","out_of_order","credits","intervals":[{"entered","left","from","to",
// "entry_id","exit_id","counted"}]}, times as local "HH:MM" in `zone` (left null: no exit).
nlohmann::json presence_to_json(const SessionPresence& presence, const date::time_zone* zone);

struct PresenceAttendance {
    std::map<std::string, SessionPresence> sessions;  // by session id: every session scanned
    std::set<std::string> attended_session_ids;
    CompletionResult result;  // credits by the minutes, with the day's cap
    // When the completion rule first held: the attended_at that completed it.
    std::optional<Instant> completed_at;
};

// The module's presence-mode attendance from the scans, by session id (rule 1 applied).
PresenceAttendance module_presence(const ModuleEdition& module,
                                   const std::map<std::string, std::vector<PresenceScan>>& scans,
                                   std::optional<Instant> now = std::nullopt);

// What a device does with a scan in presence mode (SPEC section 10), from its own scans of
// the attendee in the session (rule 1 applied) at `now`:
struct ScanDecision {
    enum class Kind {
        entry,        // outside: the scan enters
        exit,         // inside: the scan leaves, closing `entry_id`
        double_scan,  // within rescan_grace_s of the last scan: nothing recorded
    };
    Kind kind = Kind::entry;
    std::string entry_id;              // exit: the entry it closes
    std::optional<Instant> last_scan;  // double_scan: the scan it repeats
};
// A scan by staff (`manual`) is never a double scan.
ScanDecision decide_scan(const ModuleEdition& module, const ResolvedSession& session,
                         const std::vector<PresenceScan>& scans, Instant now, bool manual = false);

// Presence mode: the session an attendee may still leave at `now` when none is open (the
// last one ended before `now`, within checkin_opens_before_min of its end, at most 60
// minutes, and no window is open): people walk out after the end.
const ResolvedSession* session_to_leave(const Schedule& schedule, Instant now);

// Presence mode: the session that ended before `now`, within the same time after its end,
// when no session has begun since (the next one's check-in window may be open already).
// Someone still inside it who scans now is leaving it, not entering the next one.
const ResolvedSession* session_just_ended(const Schedule& schedule, Instant now);

}  // namespace ck

#include "core/presence.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "core/eaccme.hpp"

namespace ck {
namespace {

int seconds_between(Instant from, Instant to)
{
    return to > from ? static_cast<int>((to - from).count()) : 0;
}

bool by_time(const PresenceScan& a, const PresenceScan& b)
{
    return a.at != b.at ? a.at < b.at : a.id < b.id;
}

// Rule 2: the exits timed before the entry they closed, and those entries, left out.
int drop_out_of_order(std::vector<PresenceScan>& scans)
{
    std::set<std::string> dropped;
    for (const PresenceScan& exit : scans) {
        if (!exit.exit) continue;
        for (const PresenceScan& entry : scans) {
            if (!entry.exit && entry.id == exit.entry_id && exit.at < entry.at) {
                dropped.insert(exit.id);
                dropped.insert(entry.id);
            }
        }
    }
    std::erase_if(scans, [&](const PresenceScan& s) { return dropped.count(s.id) != 0; });
    return static_cast<int>(dropped.size() / 2);
}

}  // namespace

int PresenceInterval::seconds() const { return seconds_between(from, to); }

double presence_credits(int minutes, double cme_hours)
{
    const double earned = (std::max(minutes, 0) / 30) * 0.5;
    return std::min(earned, session_credit_cap(cme_hours));
}

SessionPresence session_presence(const ModuleEdition& module, const ResolvedSession& session,
                                 std::vector<PresenceScan> scans, std::optional<Instant> now)
{
    SessionPresence out;
    out.minutes_total = seconds_between(session.start, session.end) / 60;
    out.out_of_order = drop_out_of_order(scans);
    std::sort(scans.begin(), scans.end(), by_time);

    // Rules 3 and 4: toggle, double scans left out.
    const std::chrono::seconds grace(module.attendance.rescan_grace_s);
    const PresenceScan* last = nullptr;
    const PresenceScan* open = nullptr;
    for (const PresenceScan& scan : scans) {
        if (last != nullptr && !scan.manual && scan.at - last->at < grace) continue;
        last = &scan;
        if (open == nullptr) {
            open = &scan;
            continue;
        }
        PresenceInterval interval;
        interval.entered = open->at;
        interval.left = scan.at;
        interval.entry_id = open->id;
        interval.exit_id = scan.id;
        out.intervals.push_back(std::move(interval));
        open = nullptr;
    }
    // Rule 5: a stay without exit, until the session's end (or now).
    if (open != nullptr) {
        out.inside = true;
        PresenceInterval interval;
        interval.entered = open->at;
        interval.entry_id = open->id;
        const bool ended = !now || *now >= session.end;
        out.no_exit = ended;
        interval.counted = !ended || module.attendance.count_missing_exit;
        out.intervals.push_back(std::move(interval));
    }
    // Rule 6: clipped to the session, summed.
    const Instant until = now ? std::min(*now, session.end) : session.end;
    int seconds = 0;
    for (PresenceInterval& interval : out.intervals) {
        interval.from = std::clamp(interval.entered, session.start, session.end);
        interval.to = std::clamp(interval.left.value_or(until), interval.from, session.end);
        if (interval.counted) seconds += interval.seconds();
    }
    out.minutes_present = seconds / 60;

    // Rule 7: attended once the minutes reach the threshold; when that was.
    if (out.minutes_total > 0) {
        const int pct = module.completion.min_presence_pct;
        const int needed_min = (out.minutes_total * pct + 99) / 100;
        out.attended = out.minutes_present >= needed_min;
        int left_s = needed_min * 60;
        for (const PresenceInterval& interval : out.intervals) {
            if (!out.attended || !interval.counted) continue;
            if (interval.seconds() >= left_s) {
                out.attended_at = interval.from + std::chrono::seconds(left_s);
                break;
            }
            left_s -= interval.seconds();
        }
    }
    out.credits = presence_credits(out.minutes_present, session.spec->cme_hours);
    return out;
}

PresenceAttendance module_presence(const ModuleEdition& module,
                                   const std::map<std::string, std::vector<PresenceScan>>& scans,
                                   std::optional<Instant> now)
{
    PresenceAttendance out;
    const Schedule schedule(module);
    std::map<int, double> day_credits;
    std::vector<Instant> attended_at;
    for (const ResolvedSession& session : schedule.sessions()) {
        auto it = scans.find(session.spec->id);
        if (it == scans.end() || it->second.empty()) continue;
        SessionPresence presence = session_presence(module, session, it->second, now);
        day_credits[session.day_index] += presence.credits;
        if (presence.attended) {
            out.attended_session_ids.insert(session.spec->id);
            if (presence.attended_at) attended_at.push_back(*presence.attended_at);
        }
        out.sessions.emplace(session.spec->id, std::move(presence));
    }
    out.result.sessions_total = module.session_count();
    out.result.sessions_attended = static_cast<int>(out.attended_session_ids.size());
    const int needed = module.completion.min_sessions == 0 ? out.result.sessions_total
                                                           : module.completion.min_sessions;
    out.result.attendance_complete = out.result.sessions_attended >= needed;
    for (const auto& [day, credits] : day_credits) {
        out.result.cme_credits += std::min(credits, kEaccmeMaxPerDay);
    }
    std::sort(attended_at.begin(), attended_at.end());
    if (out.result.attendance_complete && needed > 0 &&
        attended_at.size() >= static_cast<std::size_t>(needed)) {
        out.completed_at = attended_at[static_cast<std::size_t>(needed) - 1];
    }
    return out;
}

nlohmann::json presence_to_json(const SessionPresence& p, const date::time_zone* zone)
{
    nlohmann::json intervals = nlohmann::json::array();
    for (const PresenceInterval& i : p.intervals) {
        intervals.push_back(
            {{"entered", format_local_hhmm(i.entered, zone)},
             {"left", i.left ? nlohmann::json(format_local_hhmm(*i.left, zone)) : nlohmann::json()},
             {"from", format_local_hhmm(i.from, zone)},
             {"to", format_local_hhmm(i.to, zone)},
             {"entry_id", i.entry_id},
             {"exit_id", i.exit_id},
             {"counted", i.counted}});
    }
    return {{"minutes_present", p.minutes_present},
            {"minutes_total", p.minutes_total},
            {"attended", p.attended},
            {"inside", p.inside && !p.no_exit},
            {"no_exit", p.no_exit},
            {"out_of_order", p.out_of_order},
            {"credits", p.credits},
            {"intervals", std::move(intervals)}};
}

ScanDecision decide_scan(const ModuleEdition& module, const ResolvedSession& session,
                         const std::vector<PresenceScan>& scans, Instant now, bool manual)
{
    ScanDecision decision;
    const PresenceScan* last = nullptr;
    for (const PresenceScan& scan : scans) {
        if (last == nullptr || by_time(*last, scan)) last = &scan;
    }
    if (last != nullptr && !manual &&
        now - last->at < std::chrono::seconds(module.attendance.rescan_grace_s)) {
        decision.kind = ScanDecision::Kind::double_scan;
        decision.last_scan = last->at;
        return decision;
    }
    SessionPresence presence = session_presence(module, session, scans, now);
    if (presence.inside && !presence.intervals.empty()) {
        decision.kind = ScanDecision::Kind::exit;
        decision.entry_id = presence.intervals.back().entry_id;
    }
    return decision;
}

const ResolvedSession* session_to_leave(const Schedule& schedule, Instant now)
{
    if (schedule.open_session(now) != nullptr) return nullptr;
    return session_just_ended(schedule, now);
}

const ResolvedSession* session_just_ended(const Schedule& schedule, Instant now)
{
    const auto minutes = std::min(schedule.module().checkin_opens_before_min, 60);
    const ResolvedSession* ended = nullptr;
    for (const ResolvedSession& s : schedule.sessions()) {
        if (s.end <= now) ended = &s;
    }
    if (ended == nullptr || now >= ended->end + std::chrono::minutes(minutes)) return nullptr;
    for (const ResolvedSession& s : schedule.sessions()) {
        if (s.start > ended->start && s.start <= now) return nullptr;  // one has begun since
    }
    return ended;
}

}  // namespace ck

#include "core/schedule.hpp"

#include <algorithm>

namespace ck {

Schedule::Schedule(const ModuleEdition& module) : module_(&module)
{
    const std::chrono::minutes opens_before{module.checkin_opens_before_min};
    const std::chrono::minutes late_after{module.late_after_min};
    for (std::size_t d = 0; d < module.days.size(); ++d) {
        const DaySpec& day = module.days[d];
        for (const SessionSpec& spec : day.sessions) {
            ResolvedSession r;
            r.spec = &spec;
            r.day_index = static_cast<int>(d);
            r.start = resolve_local_time(day.year, day.month, day.day, spec.start_min, module.zone);
            r.end = resolve_local_time(day.year, day.month, day.day, spec.end_min, module.zone);
            r.window_opens = r.start - opens_before;
            r.late_after = r.start + late_after;
            sessions_.push_back(r);
        }
    }
    // A validated module is already in time order; sorting keeps the contract for a module
    // built by hand. Stable, so equal starts keep their config order.
    std::stable_sort(
        sessions_.begin(), sessions_.end(),
        [](const ResolvedSession& a, const ResolvedSession& b) { return a.start < b.start; });
}

const ResolvedSession* Schedule::open_session(Instant t) const
{
    // Windows may overlap (a window opening before the previous session ends). Sessions are
    // in start order, so the first window holding `t` is the session already under way if
    // there is one, else the earliest upcoming one: exactly the contract's tie-break.
    for (const auto& s : sessions_) {
        if (s.window_opens <= t && t < s.end) return &s;
    }
    return nullptr;
}

const ResolvedSession* Schedule::next_session(Instant t) const
{
    for (const auto& s : sessions_) {
        if (s.window_opens > t) return &s;
    }
    return nullptr;
}

const ResolvedSession* Schedule::find(std::string_view session_id) const
{
    for (const auto& s : sessions_) {
        if (s.spec->id == session_id) return &s;
    }
    return nullptr;
}

Instant Schedule::module_end() const
{
    Instant end{};
    for (const auto& s : sessions_) end = std::max(end, s.end);
    return end;
}

}  // namespace ck

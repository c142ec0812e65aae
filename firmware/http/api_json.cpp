#include "http/api_json.hpp"

#include <cstdio>

namespace ck {
namespace {

std::string hhmm(int minutes)
{
    char out[8];
    std::snprintf(out, sizeof out, "%02d:%02d", (minutes / 60) % 100, minutes % 60);
    return out;
}

}  // namespace

nlohmann::json session_summary(const Schedule& schedule, const ResolvedSession& session)
{
    const auto& day = schedule.module().days[static_cast<std::size_t>(session.day_index)];
    return {{"id", session.spec->id},
            {"label", session.spec->label},
            {"start", hhmm(session.spec->start_min)},
            {"end", hhmm(session.spec->end_min)},
            {"day", day.date_text()}};
}

nlohmann::json checkin_json(const CheckinRecord& r, const date::time_zone* zone)
{
    return {{"id", r.id},
            {"attendee_id", r.attendee_id},
            {"session_id", r.session_id},
            {"at", r.at_text},
            {"local_time", format_local_hhmm(r.at, zone)},
            {"source", r.source},
            {"late", r.late},
            {"not_in_roster", r.not_in_roster},
            {"clock_untrusted", r.clock_untrusted}};
}

nlohmann::json checkin_answer(const Schedule& schedule, const CheckinOutcome& outcome,
                              const std::optional<Attendee>& attendee)
{
    const CheckinRecord& r = outcome.record;
    const ResolvedSession* session = schedule.find(r.session_id);
    return {
        {"status", outcome.created ? "checked_in" : "already_checked_in"},
        {"checkin", checkin_json(r, schedule.module().zone)},
        {"attendee", {{"display_name", attendee ? attendee->first_name_initial() : r.attendee_id}}},
        {"session", session ? session_summary(schedule, *session) : nlohmann::json(nullptr)}};
}

}  // namespace ck

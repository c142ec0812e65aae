#include "http/api_json.hpp"

#include <cstdio>

#include "net/error.hpp"

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

nlohmann::json checkin_answer(const Schedule& schedule, const CheckinResult& result)
{
    const CheckinRecord& r = result.record;
    const ResolvedSession* session = schedule.find(r.session_id);
    const char* status = result.kind != CheckinResult::Kind::created ? "already_checked_in"
                         : r.exit()                                  ? "checked_out"
                                                                     : "checked_in";
    nlohmann::json answer = {
        {"status", status},
        {"checkin", checkin_to_json(r)},
        {"attendee",
         {{"display_name",
           result.attendee ? result.attendee->first_name_initial() : r.attendee_id}}},
        {"session", session ? session_summary(schedule, *session) : nlohmann::json(nullptr)}};
    if (result.presence) {
        const SessionPresence& p = *result.presence;
        answer["minutes_present"] = p.minutes_present;
        answer["presence"] = {{"minutes_present", p.minutes_present},
                              {"minutes_total", p.minutes_total},
                              {"inside", p.inside},
                              {"attended", p.attended}};
    }
    return answer;
}

nlohmann::json held_answer(const CheckinResult& result)
{
    const HeldCheckin& held = result.held;
    const bool again = result.kind == CheckinResult::Kind::already_held;
    return {{"status", again ? "already_held" : "held"},
            {"held", {{"id", held.id}, {"device_time", held.device_time}}},
            {"attendee",
             {{"display_name",
               result.attendee ? result.attendee->first_name_initial() : held.attendee_id}}},
            {"message", std::string(again ? "Already recorded" : "Recorded") +
                            ". The kiosk's clock is not confirmed yet; this check-in will be "
                            "filed under the right session as soon as it is."}};
}

void answer_checkin(const Schedule& schedule, const Result<CheckinResult>& result,
                    httplib::Response& res)
{
    if (!result) {
        write_error(res, result.status());
        return;
    }
    if (result->kind == CheckinResult::Kind::held ||
        result->kind == CheckinResult::Kind::already_held) {
        // Durable, not filed under a session yet; 200 for a second scan, as for "already".
        write_json(res, result->kind == CheckinResult::Kind::held ? 202 : 200,
                   held_answer(*result));
        return;
    }
    write_json(res, result->kind == CheckinResult::Kind::created ? 201 : 200,
               checkin_answer(schedule, *result));
}

}  // namespace ck

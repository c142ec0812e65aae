#include "http/session_json.hpp"

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
    return {
        {"id", session.spec->id},
        {"label", session.spec->label},
        {"start", hhmm(session.spec->start_min)},
        {"end", hhmm(session.spec->end_min)},
        {"day", schedule.module().days[static_cast<std::size_t>(session.day_index)].date_text()}};
}

}  // namespace ck

// The short form of a session in API answers: {"id","label","start","end","day"}.
#pragma once

#include <nlohmann/json.hpp>

#include "core/schedule.hpp"

namespace ck {

nlohmann::json session_summary(const Schedule& schedule, const ResolvedSession& session);

}  // namespace ck

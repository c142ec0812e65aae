// JSON shapes shared by several routes (schemas/checkin-response.schema.json and friends).
#pragma once

#include <nlohmann/json.hpp>
#include <optional>

#include "core/roster.hpp"
#include "core/schedule.hpp"
#include "store/store.hpp"

namespace ck {

// {"id","label","start","end","day"}
nlohmann::json session_summary(const Schedule& schedule, const ResolvedSession& session);
// A check-in as the API shows it, with "local_time" in the module's zone.
nlohmann::json checkin_json(const CheckinRecord& record, const date::time_zone* zone);
// The answer to a check-in (badge, manual or phone): {"status","checkin","attendee","session"}.
// Public answers show no more of a name than "Given F.".
nlohmann::json checkin_answer(const Schedule& schedule, const CheckinOutcome& outcome,
                              const std::optional<Attendee>& attendee);

}  // namespace ck

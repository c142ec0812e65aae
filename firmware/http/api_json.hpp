// The answers shared by several routes (schemas/checkin-response.schema.json and friends),
// built from the records' one JSON shape (checkin_to_json in store/store.hpp).
#pragma once

#include <httplib.h>

#include <nlohmann/json.hpp>

#include "app/checkin_service.hpp"
#include "core/schedule.hpp"

namespace ck {

// {"id","label","start","end","day"}
nlohmann::json session_summary(const Schedule& schedule, const ResolvedSession& session);
// The answer to a recorded check-in (badge, manual or phone): {"status" (checked_in,
// checked_out or already_checked_in), "checkin", "attendee", "session"}, in presence mode
// with "minutes_present" and "presence". Public answers show no more of a
// name than "Given F.".
nlohmann::json checkin_answer(const Schedule& schedule, const CheckinResult& result);
// The answer to a held one (202): {"status":"held","held","attendee","message"}.
nlohmann::json held_answer(const CheckinResult& result);

// Answers a check-in the service decided: 201 checked_in, 200 already_checked_in (with the
// first check-in), 202 held (the clock is not trusted), or the error envelope.
void answer_checkin(const Schedule& schedule, const Result<CheckinResult>& result,
                    httplib::Response& res);

}  // namespace ck

// The one error envelope. Every error body is {"error": {"code", "message", "hint"}}
// (schemas/error.schema.json), optionally with "details", with the HTTP status of its code
// (the table in core/error_codes.hpp). Codes are stable: clients and tests rely on them.
#pragma once

#include <httplib.h>

#include <nlohmann/json.hpp>
#include <string_view>

#include "core/status.hpp"

namespace ck {

// {"error": {...}} for `status` (which must be an error), for answers that add members.
nlohmann::json error_envelope(const Status& status, const nlohmann::json& details = nullptr);
// Writes `status` (which must be an error) as the envelope, with the mapped HTTP status.
void write_error(httplib::Response& res, const Status& status,
                 const nlohmann::json& details = nullptr);
void write_json(httplib::Response& res, int http_status, const nlohmann::json& body);

}  // namespace ck

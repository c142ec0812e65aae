// The one error envelope and the one place that maps error codes to HTTP statuses.
//
// Every error body is {"error": {"code", "message", "hint"}} (schemas/error.schema.json),
// optionally with "details". Codes are stable: clients and tests rely on them.
#pragma once

#include <httplib.h>

#include <nlohmann/json.hpp>
#include <string_view>

#include "core/status.hpp"

namespace ck {

// The HTTP status for an error code; 500 for codes not in the table.
int http_status_for(std::string_view code);

// Writes `status` (which must be an error) as the envelope, with the mapped HTTP status.
void write_error(httplib::Response& res, const Status& status,
                 const nlohmann::json& details = nullptr);
void write_json(httplib::Response& res, int http_status, const nlohmann::json& body);

}  // namespace ck

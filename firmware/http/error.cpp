#include "http/error.hpp"

#include <utility>

namespace ck {
namespace {

struct ErrorCode {
    std::string_view code;
    int http_status;
};

// Every code the API answers with (SPEC section 5). Adding a code: add it here.
constexpr ErrorCode kErrorCodes[] = {
    {"malformed_request", 400},
    {"invalid_config", 400},
    {"unauthenticated", 401},
    {"bad_credentials", 401},
    {"csrf_failed", 403},
    {"invalid_token", 403},
    {"token_expired", 403},
    {"phone_not_identified", 401},
    {"identity_not_found", 422},
    {"not_found", 404},
    {"method_not_allowed", 405},
    {"request_timeout", 408},
    {"no_open_session", 409},
    {"already_voided", 409},
    {"module_closed", 409},
    {"sync_not_configured", 409},
    {"payload_too_large", 413},
    {"uri_too_long", 414},
    {"unsupported_media_type", 415},
    {"invalid_credential", 422},
    {"wrong_module", 422},
    {"revoked", 422},
    {"rate_limited", 429},
    {"headers_too_large", 431},
    {"internal_error", 500},
    {"storage_error", 500},
    {"clock_not_trusted", 503},
    {"storage_unavailable", 503},
    {"sync_unavailable", 503},
    {"store_unreadable", 503},
    {"storage_full", 507},
};

}  // namespace

int http_status_for(std::string_view code)
{
    for (const auto& entry : kErrorCodes) {
        if (entry.code == code) return entry.http_status;
    }
    return 500;
}

void write_json(httplib::Response& res, int http_status, const nlohmann::json& body)
{
    res.status = http_status;
    res.set_content(body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                    "application/json");
}

void write_error(httplib::Response& res, const Status& status, const nlohmann::json& details)
{
    nlohmann::json error = {
        {"code", status.code()}, {"message", status.message()}, {"hint", status.hint()}};
    if (!details.is_null()) error["details"] = details;
    write_json(res, http_status_for(status.code()), {{"error", std::move(error)}});
}

}  // namespace ck

// POST /api/v1/checkins: a scanned personal credential becomes a durable check-in.
//
// Here: the rate limit and the body's shape. The decision and the record are the check-in
// service's (app/checkin_service.hpp); a 2xx is sent only after the store's commit returned.
#include <nlohmann/json.hpp>

#include "app/checkin_service.hpp"
#include "app/device.hpp"
#include "http/api_json.hpp"
#include "http/routes.hpp"
#include "net/error.hpp"

namespace ck {
namespace {

constexpr std::size_t kMaxCredentialLength = 1024;
constexpr double kRefusalCost = 5;

Status malformed(const std::string& message)
{
    return Status::error(err::malformed_request, message,
                         "Send a JSON object like {\"credential\": \"...\"}.");
}

Result<std::string> parse_checkin_body(const std::string& body)
{
    auto json = nlohmann::json::parse(body, nullptr, false);
    if (json.is_discarded()) return malformed("The request body is not valid JSON.");
    if (!json.is_object()) return malformed("The request body must be a JSON object.");
    for (const auto& item : json.items()) {
        if (item.key() != "credential") {
            return malformed("Unknown field \"" + item.key() + "\" in the request body.");
        }
    }
    auto credential = json.find("credential");
    if (credential == json.end()) return malformed("The field \"credential\" is missing.");
    if (!credential->is_string()) return malformed("The field \"credential\" must be a string.");
    const auto& text = credential->get_ref<const std::string&>();
    if (text.empty() || text.size() > kMaxCredentialLength) {
        return malformed("The field \"credential\" must be 1 to 1024 characters long.");
    }
    return text;
}

}  // namespace

void handle_post_checkin(const ApiRequest& request, httplib::Response& res)
{
    const std::string& client = request.client;
    if (!request.context.checkin_limiter.allow(client)) {
        write_error(res, Status::error(err::rate_limited, "Too many check-in attempts from here.",
                                       "Wait a few seconds and try again."));
        res.set_header("Retry-After", "5");
        return;
    }
    auto text = parse_checkin_body(request.body);
    if (!text) {
        write_error(res, text.status());
        return;
    }
    auto result = request.context.checkins.badge(*text);
    // A refused badge costs more than an accepted one (guessing is slowed down first); a
    // store that failed is not the client's doing.
    if (!result && result.status().http_status() < 500) {
        request.context.checkin_limiter.allow(client, kRefusalCost);
    }
    answer_checkin(*request.device.schedule, result, res);
}

}  // namespace ck

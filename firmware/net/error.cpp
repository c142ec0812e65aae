#include "net/error.hpp"

#include <utility>

namespace ck {

void write_json(httplib::Response& res, int http_status, const nlohmann::json& body)
{
    res.status = http_status;
    res.set_content(body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                    "application/json");
}

nlohmann::json error_envelope(const Status& status, const nlohmann::json& details)
{
    nlohmann::json error = {
        {"code", status.code()}, {"message", status.message()}, {"hint", status.hint()}};
    if (!details.is_null()) error["details"] = details;
    return {{"error", std::move(error)}};
}

void write_error(httplib::Response& res, const Status& status, const nlohmann::json& details)
{
    write_json(res, status.http_status(), error_envelope(status, details));
}

}  // namespace ck

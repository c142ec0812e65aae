#include "sync/registry_client.hpp"

#include <httplib.h>

#include <ctime>

#include "app/files.hpp"

namespace ck {

std::optional<Instant> parse_http_date(const std::string& text)
{
    std::tm tm{};
    const char* end = strptime(text.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
    if (end == nullptr || *end != '\0') return std::nullopt;
    return Instant(std::chrono::seconds(timegm(&tm)));
}

RegistryClient::RegistryClient(RegistryConfig config, std::chrono::seconds timeout)
    : config_(std::move(config)), timeout_(timeout)
{
    // "https://host:port/prefix" -> origin and prefix.
    std::string url = config_.url;
    auto scheme_end = url.find("://");
    auto path_start = url.find('/', scheme_end == std::string::npos ? 0 : scheme_end + 3);
    origin_ = url.substr(0, path_start);
    prefix_ = path_start == std::string::npos ? "" : url.substr(path_start);
    while (!prefix_.empty() && prefix_.back() == '/') prefix_.pop_back();
}

RegistryReply RegistryClient::send(const std::string& method, const std::string& path,
                                   const std::string& body, const std::string& etag)
{
    RegistryReply reply;
    auto token = read_file(config_.token_file);
    if (!token) {
        reply.transport_error = "cannot read the token file " + config_.token_file;
        return reply;
    }
    while (!token->empty() &&
           (token->back() == '\n' || token->back() == '\r' || token->back() == ' '))
        token->pop_back();

    httplib::Client client(origin_);
    if (!client.is_valid()) {
        reply.transport_error = "the registry URL " + config_.url + " is not usable";
        return reply;
    }
    client.enable_server_certificate_verification(true);
    if (!config_.ca_file.empty()) client.set_ca_cert_path(config_.ca_file);
    client.set_connection_timeout(timeout_);
    client.set_read_timeout(timeout_);
    client.set_write_timeout(timeout_);
    client.set_bearer_token_auth(*token);
    client.set_keep_alive(false);

    httplib::Headers headers;
    if (!etag.empty()) headers.emplace("If-None-Match", etag);
    auto started = std::chrono::steady_clock::now();
    httplib::Result result =
        method == "POST"
            ? (client.set_compress(true),
               client.Post((prefix_ + path).c_str(), headers, body, "application/json"))
            : client.Get((prefix_ + path).c_str(), headers);
    reply.round_trip = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - started);
    if (!result) {
        reply.transport_error = httplib::to_string(result.error());
        return reply;
    }
    reply.status = result->status;
    reply.body = result->body;
    reply.etag = result->get_header_value("ETag");
    reply.date = parse_http_date(result->get_header_value("Date"));
    return reply;
}

RegistryReply RegistryClient::post_events(const std::string& device_id, const nlohmann::json& batch)
{
    return send("POST", "/api/v1/devices/" + device_id + "/events", batch.dump(), "");
}

RegistryReply RegistryClient::get_roster(const std::string& module_id, const std::string& etag)
{
    return send("GET", "/api/v1/modules/" + module_id + "/roster", "", etag);
}

}  // namespace ck

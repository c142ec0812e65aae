// The device's HTTP client for the central registry (SPEC section 6): HTTPS with
// certificate and host-name verification (an optional CA file), a bearer token read from
// the token file at every request (so it can be replaced without a restart), timeouts on
// connect, read and write, and gzip-compressed request bodies.
#pragma once

#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "app/config.hpp"
#include "core/time.hpp"

namespace ck {

struct RegistryReply {
    int status = 0;               // HTTP status; 0 when there was no HTTP answer
    std::string transport_error;  // why there was no answer (connection refused, timeout, TLS)
    std::string body;
    std::string etag;
    std::optional<Instant> date;  // the registry's Date header
    std::chrono::milliseconds round_trip{0};
};

// The two requests the relay makes (docs/sync.md). RegistryClient sends them over the
// network; tests give the relay a scripted one.
class RegistryTransport {
public:
    virtual ~RegistryTransport() = default;
    // POST {url}/api/v1/devices/{device_id}/events with `batch`.
    virtual RegistryReply post_events(const std::string& device_id,
                                      const nlohmann::json& batch) = 0;
    // GET {url}/api/v1/modules/{module_id}/roster, If-None-Match `etag` when not empty.
    virtual RegistryReply get_roster(const std::string& module_id, const std::string& etag) = 0;
};

class RegistryClient : public RegistryTransport {
public:
    explicit RegistryClient(RegistryConfig config,
                            std::chrono::seconds timeout = std::chrono::seconds(10));

    RegistryReply post_events(const std::string& device_id, const nlohmann::json& batch) override;
    RegistryReply get_roster(const std::string& module_id, const std::string& etag) override;

private:
    RegistryReply send(const std::string& method, const std::string& path, const std::string& body,
                       const std::string& etag);

    RegistryConfig config_;
    std::chrono::seconds timeout_;
    std::string origin_;  // scheme://host:port
    std::string prefix_;  // path prefix of the registry URL, without a trailing '/'
};

// Parses an HTTP date ("Sun, 22 Nov 2026 19:00:00 GMT").
std::optional<Instant> parse_http_date(const std::string& text);

}  // namespace ck

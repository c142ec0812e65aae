#include "api/server.hpp"

#include <strings.h>

#include <chrono>
#include <string_view>

#include "api/office.hpp"
#include "api/registry_assets.hpp"
#include "core/device_id.hpp"
#include "log/log.hpp"
#include "model/devices.hpp"
#include "model/rosters.hpp"
#include "net/error.hpp"

namespace ck::registry {

RegistryContext::RegistryContext(ConnectionPool& pool_, const BatchParser& batches_,
                                 ZoneLookup zones_, ProgressSummaries& summaries_)
    : pool(pool_),
      batches(batches_),
      zones(std::move(zones_)),
      summaries(summaries_),
      clients({"127.0.0.1", "::1"}),
      login_limiter(0.2, 10)
{
}

namespace {

constexpr std::string_view kDevicesPrefix = "/api/v1/devices/";
constexpr std::string_view kEventsSuffix = "/events";

// The device id of an events path, as sent (not yet checked).
std::string device_of_events_path(const std::string& path)
{
    if (path.size() <= kDevicesPrefix.size() + kEventsSuffix.size() ||
        path.compare(0, kDevicesPrefix.size(), kDevicesPrefix) != 0 ||
        path.compare(path.size() - kEventsSuffix.size(), kEventsSuffix.size(), kEventsSuffix) !=
            0) {
        return {};
    }
    return path.substr(kDevicesPrefix.size(),
                       path.size() - kDevicesPrefix.size() - kEventsSuffix.size());
}

// The bearer token of `req`, or "" when there is none.
std::string bearer_token(const httplib::Request& req)
{
    const std::string header = req.get_header_value("Authorization");
    constexpr std::string_view kScheme = "Bearer ";
    if (header.size() <= kScheme.size() ||
        strncasecmp(header.c_str(), kScheme.data(), kScheme.size()) != 0) {
        return {};
    }
    std::size_t start = header.find_first_not_of(' ', kScheme.size());
    return start == std::string::npos ? std::string() : header.substr(start);
}

Status no_token()
{
    return Status::error(err::unauthenticated, "This request needs the device's token.",
                         "Send Authorization: Bearer <token> (registry.token_file on the device).");
}

// The device `req`'s token belongs to: 401 without a known token.
Result<DeviceGrant> authenticate(RegistryContext& context, const httplib::Request& req)
{
    const std::string token = bearer_token(req);
    if (token.empty()) return no_token();
    auto db = context.pool.acquire();
    if (!db) return db.status();
    return authenticate_device(**db, token);
}

// Before the body of a batch is read, in the order docs/sync.md gives: the path's device
// id (400), the token (401) and its device (403), then the body's type (415; its encoding
// is the server's to check).
Status admit_batch(RegistryContext& context, const httplib::Request& req)
{
    const std::string device_id = device_of_events_path(req.path);
    if (!is_device_id(device_id)) {
        return Status::error(err::malformed_request, "The path does not name a valid device id.",
                             "Device ids are lower-case letters, digits and '-' (docs/sync.md).");
    }
    auto grant = authenticate(context, req);
    if (!grant) return grant.status();
    if (grant->device_id != device_id) {
        return Status::error(err::device_not_allowed,
                             "This token does not belong to device " + device_id + ".",
                             "Check registry.token_file and device_id on the device.");
    }
    const std::string type = req.get_header_value("Content-Type");
    const std::string_view media = std::string_view(type).substr(0, type.find(';'));
    if (strncasecmp(media.data(), "application/json", media.size()) != 0 ||
        media.size() != std::string_view("application/json").size()) {
        return Status::error(err::unsupported_media_type,
                             "A batch is application/json, not \"" + type + "\".",
                             "Send Content-Type: application/json.");
    }
    return Status::ok();
}

void post_events(RegistryContext& context, const httplib::Request& req, httplib::Response& res,
                 const std::string& body)
{
    if (!context.batch_slots.try_acquire_for(std::chrono::seconds(30))) {
        res.set_header("Retry-After", "5");
        return write_error(
            res, Status::error(err::server_busy, "The registry is taking in many batches at once.",
                               "Try again in a few seconds."));
    }
    struct Slot {
        std::counting_semaphore<64>& slots;
        ~Slot() { slots.release(); }
    } slot{context.batch_slots};
    auto batch = context.batches.parse(body, req.matches[1]);
    if (!batch) return write_error(res, batch.status());
    auto db = context.pool.acquire();
    if (!db) return write_error(res, db.status());
    auto outcome = [&] {
        ProgressSummaries::BatchInFlight in_flight(context.summaries);
        return apply_batch(**db, bearer_token(req), *batch);
    }();
    if (!outcome) {
        if (outcome.status().http_status() >= 500) {
            CK_WARN("events", batch->device_id << ": " << outcome.status().message());
        }
        return write_error(res, outcome.status());
    }
    if (!outcome->status) {
        ++context.counters.batches_refused;
        nlohmann::json answer = error_envelope(outcome->status, outcome->details);
        answer["acked_through"] = outcome->acked_through;
        CK_INFO("events", batch->device_id << " refused (" << outcome->status.code()
                                           << "): " << outcome->status.message());
        return write_json(res, outcome->status.http_status(), answer);
    }
    const std::int64_t first_new = std::max(batch->first_seq, outcome->acked_before + 1);
    if (outcome->acked_through >= first_new) {
        ++context.counters.batches_stored;
        context.counters.events_stored +=
            static_cast<std::uint64_t>(outcome->acked_through - first_new + 1);
    } else {
        ++context.counters.batches_repeated;
    }
    write_json(res, 200, {{"acked_through", outcome->acked_through}});
}

void get_roster(RegistryContext& context, const httplib::Request& req, httplib::Response& res)
{
    const std::string module_id = req.matches[1];
    auto grant = authenticate(context, req);
    if (!grant) return write_error(res, grant.status());
    auto db = context.pool.acquire();
    if (!db) return write_error(res, db.status());
    auto snapshot = roster_snapshot(**db, module_id);
    if (!snapshot) return write_error(res, snapshot.status());
    if (grant->module_id != module_id) {
        return write_error(
            res, Status::error(err::module_not_allowed,
                               "Device " + grant->device_id + " belongs to module edition " +
                                   grant->module_id + ", not " + module_id + ".",
                               "Check module.cycle and module.number in the "
                               "device's config."));
    }
    res.set_header("ETag", snapshot->etag);
    if (etag_matches(req.get_header_value("If-None-Match"), snapshot->etag)) {
        ++context.counters.roster_unchanged;
        res.status = 304;
        return;
    }
    ++context.counters.roster_pulls;
    write_json(res, 200, snapshot->body);
}

void get_healthz(RegistryContext& context, httplib::Response& res)
{
    auto db = context.pool.acquire();
    Status s = db ? (*db)->exec("SELECT 1").status() : db.status();
    if (!s) return write_error(res, s);
    write_json(res, 200, {{"status", "ok"}});
}

// 401s name the scheme (RFC 6750 section 3); a token that was sent but is unknown says so.
void add_challenge(const httplib::Request& req, httplib::Response& res)
{
    if (res.status != 401) return;
    res.set_header(
        "WWW-Authenticate",
        bearer_token(req).empty()
            ? std::string("Bearer realm=\"course-kiosk registry\"")
            : std::string("Bearer realm=\"course-kiosk registry\", error=\"invalid_token\""));
}

}  // namespace

nlohmann::json batch_schema()
{
    const WebFiles files(registry_web_assets());
    auto file = files.find("/schemas/sync-events-request.schema.json", "");
    return file ? nlohmann::json::parse(file->body) : nlohmann::json();
}

std::unique_ptr<httplib::Server> make_registry_server(RegistryContext& context,
                                                      const ServerOptions& options)
{
    std::vector<GuardedRoute> routes;
    routes.push_back({"GET",
                      "/healthz",
                      0,
                      0,
                      {},
                      [&context](const httplib::Request&, httplib::Response& res,
                                 const std::string&) { get_healthz(context, res); }});
    routes.push_back(
        {"POST", "/api/v1/devices/([^/]+)/events", kBatchMaxBytes, kBatchMaxDecodedBytes,
         [&context](const httplib::Request& req) { return admit_batch(context, req); },
         [&context](const httplib::Request& req, httplib::Response& res, const std::string& body) {
             post_events(context, req, res, body);
         }});
    routes.push_back({"GET",
                      "/api/v1/devices/([^/]+)/events",
                      0,
                      0,
                      {},
                      [](const httplib::Request&, httplib::Response& res, const std::string&) {
                          res.set_header("Allow", "POST");
                          write_error(res, Status::error(err::method_not_allowed,
                                                         "Events are sent with POST.",
                                                         "POST the batch (docs/sync.md)."));
                      }});
    routes.push_back({"GET",
                      "/api/v1/modules/([^/]+)/roster",
                      0,
                      0,
                      {},
                      [&context](const httplib::Request& req, httplib::Response& res,
                                 const std::string&) { get_roster(context, req, res); }});
    for (auto& route : office_routes(context)) routes.push_back(std::move(route));
    auto on_answer = [&context](const httplib::Request& req, httplib::Response& res) {
        add_challenge(req, res);
        if (res.status == 503 && res.body.find("\"storage_unavailable\"") != std::string::npos) {
            ++context.counters.database_unavailable;
        }
    };
    return make_guarded_server(routes, 16u << 10, options, on_answer);
}

}  // namespace ck::registry

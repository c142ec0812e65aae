#include "http/server.hpp"

#include "app/device.hpp"
#include "app/log.hpp"
#include "http/error.hpp"
#include "http/routes.hpp"
#include "http/staff_auth.hpp"

namespace ck {
namespace {

// Headers every answer carries. Pages only talk to the device itself.
void add_common_headers(const httplib::Request& req, httplib::Response& res)
{
    res.set_header("X-Content-Type-Options", "nosniff");
    res.set_header("Referrer-Policy", "no-referrer");
    if (req.path.rfind("/api/", 0) == 0 || req.path == "/healthz" || req.path == "/metrics") {
        res.set_header("Cache-Control", "no-store");
    } else {
        res.set_header("Content-Security-Policy",
                       "default-src 'self'; img-src 'self' data:; style-src 'self'; "
                       "frame-ancestors 'none'; base-uri 'none'; form-action 'self'");
        res.set_header("X-Frame-Options", "DENY");
        res.set_header("Cache-Control", "no-cache");
    }
}

// Past the limit, up to this much more is read and thrown away so that the client gets a
// clean 413 on a connection that stays usable; beyond it, reading stops.
constexpr std::size_t kDiscardMax = 1 << 20;

// Reads the body through `reader`, refusing more than `limit` bytes whatever the framing
// (cpp-httplib 0.11.4 applies its payload limit to Content-Length bodies only).
Status read_body(const httplib::ContentReader& reader, std::size_t limit, std::string& body,
                 const httplib::Response& res)
{
    bool too_large = false;
    std::size_t discarded = 0;
    bool complete = reader([&](const char* data, std::size_t length) {
        if (too_large || body.size() + length > limit) {
            too_large = true;
            discarded += length;
            return discarded <= kDiscardMax;
        }
        body.append(data, length);
        return true;
    });
    // httplib itself answers 413 for a Content-Length above set_payload_max_length.
    if (too_large || (!complete && res.status == 413)) {
        return Status::error("payload_too_large",
                             "The request body is larger than " + std::to_string(limit) + " bytes.",
                             "Send a smaller body.");
    }
    if (!complete) {
        return Status::error("malformed_request", "The request body could not be read.",
                             "Send a complete body with a correct length or chunked framing.");
    }
    return Status::ok();
}

void dispatch(const Route& route, Device& device, const httplib::Request& req,
              httplib::Response& res, const std::string& body)
{
    ApiRequest request{req, body, device, {}};
    if (route.access == Access::staff) {
        auto session = authorize_staff(device, req, req.method != "GET");
        if (!session) {
            write_error(res, session.status());
            return;
        }
        request.staff = session->username;
    }
    route.handler(request, res);
}

}  // namespace

std::unique_ptr<httplib::Server> make_server(Device& device, const ServerOptions& options)
{
    auto server = std::make_unique<httplib::Server>();
    httplib::Server& svr = *server;
    const std::size_t default_limit = device.config.max_body_bytes;

    svr.set_tcp_nodelay(true);
    std::size_t largest = default_limit;
    for (const auto& route : route_table()) largest = std::max(largest, route.max_body);
    svr.set_payload_max_length(largest);
    svr.set_keep_alive_timeout(options.keep_alive_seconds);
    svr.set_keep_alive_max_count(1000);
    svr.set_read_timeout(10);
    svr.set_write_timeout(10);
    const WorkerPoolLimits workers = options.workers;
    svr.new_task_queue = [workers] { return new WorkerPool(workers); };

    for (const auto& route : route_table()) {
        const Route* r = &route;
        std::string method = route.method;
        if (method == "GET") {
            svr.Get(route.pattern,
                    [r, &device](const httplib::Request& req, httplib::Response& res) {
                        dispatch(*r, device, req, res, req.body);
                    });
            continue;
        }
        std::size_t limit = route.max_body != 0 ? route.max_body : default_limit;
        auto handler = [r, &device, limit](const httplib::Request& req, httplib::Response& res,
                                           const httplib::ContentReader& reader) {
            std::string body;
            bool has_body = req.has_header("Content-Length") || req.has_header("Transfer-Encoding");
            if (Status s = has_body ? read_body(reader, limit, body, res) : Status::ok(); !s) {
                write_error(res, s);
                return;
            }
            dispatch(*r, device, req, res, body);
        };
        if (method == "POST") svr.Post(route.pattern, handler);
        if (method == "PUT") svr.Put(route.pattern, handler);
        if (method == "DELETE") svr.Delete(route.pattern, handler);
    }

    // Runs for every answer, errors included (httplib calls it after the error handler).
    svr.set_post_routing_handler(add_common_headers);
    // Statuses httplib sets by itself (404, 413 for a long Content-Length, 400...) get the
    // envelope too; answers that already have a body are left alone.
    svr.set_error_handler([](const httplib::Request& req, httplib::Response& res) {
        if (!res.body.empty()) return;
        switch (res.status) {
            case 404:
                write_error(res, Status::error("not_found", "There is nothing at " + req.path + ".",
                                               "Check the address."));
                break;
            case 413:
                write_error(res,
                            Status::error("payload_too_large", "The request body is too large.",
                                          "Send a smaller body."));
                break;
            case 400:
                write_error(
                    res, Status::error("malformed_request", "The request could not be understood.",
                                       "Send a well-formed HTTP request."));
                break;
            default:
                if (res.status >= 500) {
                    write_error(res, Status::error("internal_error", "The server failed.",
                                                   "Try again; if it persists, see the log."));
                } else {
                    write_error(res, Status::error("malformed_request", "The request was refused.",
                                                   "Check the request."));
                }
        }
    });
    // Never put exception text on the wire (0.11.4 would put it in a header).
    svr.set_exception_handler(
        [](const httplib::Request& req, httplib::Response& res, std::exception_ptr ep) {
            try {
                if (ep) std::rethrow_exception(ep);
            } catch (const std::exception& e) {
                CK_ERROR("http", req.method << " " << req.path << " failed: " << e.what());
            } catch (...) {
                CK_ERROR("http", req.method << " " << req.path << " failed");
            }
            res.headers.clear();
            write_error(res, Status::error("internal_error", "The server failed.",
                                           "Try again; if it persists, see the log."));
        });
    return server;
}

}  // namespace ck

namespace ck {

bool answers_healthz(const std::string& host, int port)
{
    std::string target = host;
    if (target == "0.0.0.0" || target.empty()) target = "127.0.0.1";
    if (target == "::") target = "::1";
    httplib::Client client(target, port);
    client.set_connection_timeout(5);
    client.set_read_timeout(5);
    auto res = client.Get("/healthz");
    return res && res->status == 200;
}

}  // namespace ck

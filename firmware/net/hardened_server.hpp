// A cpp-httplib server configured against its known traps, for any route table: the
// device's (http/server.hpp) and the registry's (registry/http) are both built here, so
// both have the same guards.
//
// Guards: a GuardedServer that bounds each request's head and time (net/guarded_server.hpp),
// a growing worker pool, TCP_NODELAY, payload and JSON-depth limits that also hold for
// chunked and gzip bodies, refusals of what cpp-httplib 0.11.4 mishandles (SECURITY.md), an
// exception handler that leaks nothing, the error envelope on every 4xx/5xx, a Date header
// on every answer, and no-store / security headers.
#pragma once

#include <httplib.h>

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/status.hpp"
#include "net/worker_pool.hpp"

namespace ck {

// Chosen from bench/ measurements; bench/README.md gives the reasons.
struct ServerOptions {
    WorkerPoolLimits workers;
    // How long a connection may wait for its next request (or its first) before it is
    // closed. A waiting connection holds no thread (the event loop watches it), only a
    // file descriptor: long enough for a dashboard's polling and a kiosk's next scan to
    // reuse their connection.
    int keep_alive_seconds = 5;
    // Bytes of request bodies all requests together may hold in memory at once; a body that
    // would go past it is refused with 503 server_busy (Retry-After) and not read further.
    // Unauthenticated clients cannot spend it on authorised routes: those are admitted from
    // the request head, before any body byte is read.
    std::size_t max_body_bytes_in_flight = 24u << 20;
};

// One route of the table the server is built from.
struct GuardedRoute {
    using Handler =
        std::function<void(const httplib::Request&, httplib::Response&, const std::string& body)>;
    std::string method;   // GET, POST, PUT, DELETE
    std::string pattern;  // httplib pattern (a regex for paths with ids)
    // The largest body as sent (Content-Length, or the chunks' total) and after gzip
    // decoding; 0: the server's default limit (decoded: the same as sent).
    std::size_t max_body = 0;
    std::size_t max_decoded_body = 0;
    // Routes with a body only: runs on the request head before any body byte is read; an
    // error is answered at once (and the connection closed), so a client that would be
    // refused cannot make the server hold its upload first. Empty: everyone is admitted.
    std::function<Status(const httplib::Request&)> admit;
    Handler handler;  // gets the whole body, within the limits
};

// Runs on every answer, refusals of the guards included, after the common headers.
using AnswerHook = std::function<void(const httplib::Request&, httplib::Response&)>;

// Builds the server; `default_max_body` is the limit of routes that name none. A request
// body may be identity or gzip (Content-Encoding); anything else is 415 unsupported_encoding.
std::unique_ptr<httplib::Server> make_guarded_server(const std::vector<GuardedRoute>& routes,
                                                     std::size_t default_max_body,
                                                     const ServerOptions& options,
                                                     AnswerHook on_answer = {});

// True when a server listening on `host`:`port` answers GET /healthz with 200 within a few
// seconds (a wildcard host is asked on loopback). The systemd watchdog asks this.
bool answers_healthz(const std::string& host, int port);

}  // namespace ck

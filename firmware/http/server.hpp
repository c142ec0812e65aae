// The HTTP server: cpp-httplib configured against its known traps, wired to the route
// table. One function builds it, so tests and `serve` run the same server.
#pragma once

#include <httplib.h>

#include <memory>
#include <string>

#include "http/worker_pool.hpp"

namespace ck {

struct HttpContext;

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
    // Unauthenticated clients cannot spend it on staff routes: those are authorised from the
    // request head, before any body byte is read.
    std::size_t max_body_bytes_in_flight = 24u << 20;
};

// Builds a server for `context` (which must outlive it). Guards: a GuardedServer that bounds
// each request's head and time (http/guarded_server.hpp), a growing worker pool,
// TCP_NODELAY, payload and JSON-depth limits that also hold for chunked bodies, refusals
// of what cpp-httplib 0.11.4 mishandles (SECURITY.md), an exception handler that leaks
// nothing, the error envelope on every 4xx/5xx, and no-store / security headers.
std::unique_ptr<httplib::Server> make_server(HttpContext& context, const ServerOptions& options);

// True when a server listening on `host`:`port` answers GET /healthz with 200 within a few
// seconds (a wildcard host is asked on loopback). The systemd watchdog asks this.
bool answers_healthz(const std::string& host, int port);

}  // namespace ck

// The HTTP server: cpp-httplib configured against its known traps, wired to the route
// table. One function builds it, so tests and `serve` run the same server.
#pragma once

#include <httplib.h>

#include <memory>
#include <string>

#include "http/worker_pool.hpp"

namespace ck {

class Device;

// Chosen from bench/ measurements; bench/README.md gives the reasons.
struct ServerOptions {
    WorkerPoolLimits workers;
    // How long an idle keep-alive connection keeps its worker thread. Long enough for a
    // phone to post its check-in after loading the page; short, because each idle
    // connection holds a thread.
    int keep_alive_seconds = 1;
};

// Builds a server for `device` (which must outlive it). Guards: TCP_NODELAY, payload limits
// that also hold for chunked bodies, an exception handler that leaks nothing, the error
// envelope on every 4xx/5xx, and no-store / security headers.
std::unique_ptr<httplib::Server> make_server(Device& device, const ServerOptions& options);

// True when a server listening on `host`:`port` answers GET /healthz with 200 within a few
// seconds (a wildcard host is asked on loopback). The systemd watchdog asks this.
bool answers_healthz(const std::string& host, int port);

}  // namespace ck

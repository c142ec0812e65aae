// The device's HTTP server: the route table (http/routes.hpp) on the hardened server
// (net/hardened_server.hpp). One function builds it, so tests and `serve` run the same server.
#pragma once

#include <httplib.h>

#include <memory>

#include "net/hardened_server.hpp"

namespace ck {

struct HttpContext;

// Builds a server for `context` (which must outlive it), with every guard of
// make_guarded_server.
std::unique_ptr<httplib::Server> make_server(HttpContext& context, const ServerOptions& options);

}  // namespace ck

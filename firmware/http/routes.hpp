// The route table: the single place that lists the whole HTTP interface (SPEC section 5).
#pragma once

#include <httplib.h>

#include <cstddef>
#include <string>
#include <vector>

namespace ck {

class Device;

// What a handler gets: the parsed request, its body (already read and within the route's
// size limit) and the device.
struct ApiRequest {
    const httplib::Request& http;
    const std::string& body;
    Device& device;
};

using Handler = void (*)(const ApiRequest& request, httplib::Response& response);

enum class Access {
    open,   // anyone on the network
    staff,  // a logged-in staff session (issue 3)
};

struct Route {
    const char* method;   // GET, POST, PUT, DELETE
    const char* pattern;  // httplib pattern (a regex for paths with ids)
    Handler handler;
    Access access;
    std::size_t max_body;  // 0: the configured default (limits.max_body_bytes)
};

const std::vector<Route>& route_table();

// Handlers, grouped by file (handle_*.cpp).
void handle_healthz(const ApiRequest& request, httplib::Response& response);
void handle_get_module(const ApiRequest& request, httplib::Response& response);
void handle_page(const ApiRequest& request, httplib::Response& response);
void handle_post_checkin(const ApiRequest& request, httplib::Response& response);

}  // namespace ck

#include "http/server.hpp"

#include "app/device.hpp"
#include "http/routes.hpp"
#include "http/staff_auth.hpp"
#include "net/error.hpp"

namespace ck {
namespace {

void dispatch(const Route& route, HttpContext& context, const httplib::Request& req,
              httplib::Response& res, const std::string& body)
{
    ApiRequest request{req, body, context, context.device, {}, context.clients.of(req)};
    if (route.access == Access::scrape && context.scrape_token_matches(req)) {
        request.staff = "metrics scrape";
    } else if (route.access != Access::open) {
        auto session = authorize_staff(context.device, req, req.method != "GET");
        if (!session) {
            write_error(res, session.status());
            return;
        }
        request.staff = session->username;
    }
    route.handler(request, res);
}

}  // namespace

std::unique_ptr<httplib::Server> make_server(HttpContext& context, const ServerOptions& options)
{
    std::vector<GuardedRoute> routes;
    for (const Route& route : route_table()) {
        GuardedRoute guarded{route.method, route.pattern, route.max_body, 0, {}, {}};
        // A staff route is authorised from the head: a client without a session (or, on a
        // state-changing route, without its CSRF token) is answered before any body byte.
        if (route.access == Access::staff) {
            guarded.admit = [&context](const httplib::Request& req) {
                auto session = authorize_staff(context.device, req, true);
                return session ? Status::ok() : session.status();
            };
        }
        guarded.handler = [r = &route, &context](const httplib::Request& req,
                                                 httplib::Response& res, const std::string& body) {
            dispatch(*r, context, req, res, body);
        };
        routes.push_back(std::move(guarded));
    }
    return make_guarded_server(routes, context.device.config.max_body_bytes, options);
}

}  // namespace ck

#include "http/routes.hpp"

namespace ck {

const std::vector<Route>& route_table()
{
    static const std::vector<Route> routes = {
        // Pages and their assets (embedded from web/).
        {"GET", "/", handle_page, Access::open, 0},
        {"GET", R"(/[a-z0-9_-]+\.(css|js|svg|png|ico))", handle_page, Access::open, 0},
        // Public API.
        {"GET", "/healthz", handle_healthz, Access::open, 0},
        {"GET", "/api/v1/module", handle_get_module, Access::open, 0},
        {"POST", "/api/v1/checkins", handle_post_checkin, Access::open, 0},
    };
    return routes;
}

}  // namespace ck

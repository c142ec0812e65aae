#include "http/routes.hpp"

#include <openssl/crypto.h>

#include "app/device.hpp"
#include "app/files.hpp"
#include "log/log.hpp"

namespace ck {

HttpContext::HttpContext(Device& device_, CheckinService& checkins_, SyncControl& sync_,
                         std::string web_dir_)
    : device(device_),
      checkins(checkins_),
      sync(sync_),
      web_dir(std::move(web_dir_)),
      listening(parse_listen(device_.config.listen).value_or(ListenAddress{})),
      checkin_limiter(device_.config.checkins_per_client_per_s,
                      device_.config.checkin_burst_per_client),
      login_limiter(0.2, 10),
      clients(device_.config.trusted_proxies),
      phone_failures({.free_failures = 4, .first_delay_s = 60, .max_delay_s = 15 * 60})
{
    if (!device.config.metrics_token_file.empty()) {
        std::string token = read_file(device.config.metrics_token_file).value_or("");
        while (!token.empty() &&
               (token.back() == '\n' || token.back() == '\r' || token.back() == ' ')) {
            token.pop_back();
        }
        if (token.empty()) {
            CK_WARN("http", "cannot read a token from " << device.config.metrics_token_file
                                                        << ": /metrics needs a staff login");
        }
        metrics_token = std::move(token);
    }
}

bool HttpContext::scrape_token_matches(const httplib::Request& req) const
{
    if (metrics_token.empty()) return false;
    static constexpr std::string_view kBearer = "Bearer ";
    const std::string header = req.get_header_value("Authorization");
    if (header.size() != kBearer.size() + metrics_token.size() ||
        header.compare(0, kBearer.size(), kBearer) != 0) {
        return false;
    }
    return CRYPTO_memcmp(header.data() + kBearer.size(), metrics_token.data(),
                         metrics_token.size()) == 0;
}

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
        {"POST", "/api/v1/session", handle_login, Access::open, 0},
        // Entrance display and phone self check-in.
        {"GET", "/display", handle_page, Access::open, 0},
        {"GET", "/p", handle_page, Access::open, 0},
        {"GET", "/api/v1/display", handle_display_state, Access::open, 0},
        {"POST", "/api/v1/phone/checkins", handle_phone_checkin, Access::open, 0},
        {"POST", "/api/v1/phone/identify", handle_phone_identify, Access::open, 0},
        // Staff API: a session cookie, and X-CSRF-Token on every state-changing request.
        {"GET", "/staff", handle_page, Access::open, 0},
        {"GET", "/api/v1/session", handle_get_session, Access::staff, 0},
        {"DELETE", "/api/v1/session", handle_logout, Access::staff, 0},
        {"GET", "/api/v1/summary", handle_summary, Access::staff, 0},
        {"GET", "/api/v1/presence", handle_session_presence, Access::staff, 0},
        {"GET", "/api/v1/attendees", handle_list_attendees, Access::staff, 0},
        {"POST", "/api/v1/attendees", handle_add_attendee, Access::staff, kAttendeeMaxBytes},
        {"GET", R"(/api/v1/attendees/([A-Za-z0-9._-]{1,64}))", handle_get_attendee, Access::staff,
         0},
        {"POST", R"(/api/v1/attendees/([A-Za-z0-9._-]{1,64})/checkins)", handle_manual_checkin,
         Access::staff, 0},
        {"POST", R"(/api/v1/attendees/([A-Za-z0-9._-]{1,64})/checkouts)", handle_manual_checkout,
         Access::staff, 0},
        {"POST", R"(/api/v1/checkins/([0-9a-f-]{36})/void)", handle_void_checkin, Access::staff, 0},
        {"POST", "/api/v1/roster", handle_import_roster, Access::staff, kRosterMaxBytes},
        {"GET", "/api/v1/badges", handle_badges, Access::staff, 0},
        {"GET", "/api/v1/export", handle_export, Access::staff, 0},
        {"GET", "/api/v1/completions", handle_completions, Access::staff, 0},
        {"POST", "/api/v1/module/close", handle_close_module, Access::staff, 0},
        {"GET", "/api/v1/audit", handle_audit, Access::staff, 0},
        {"GET", "/api/v1/sync", handle_get_sync, Access::staff, 0},
        {"POST", "/api/v1/sync", handle_post_sync, Access::staff, 0},
        {"PUT", "/api/v1/clock", handle_set_clock, Access::staff, 0},
        {"GET", "/api/v1/held", handle_list_held, Access::staff, 0},
        {"POST", R"(/api/v1/held/([0-9a-f-]{36})/file)", handle_file_held, Access::staff, 0},
        // Staff accounts: the use cases answer 403 forbidden to anyone but an admin.
        {"GET", "/api/v1/staff", handle_list_staff, Access::staff, 0},
        {"POST", "/api/v1/staff", handle_add_staff, Access::staff, 0},
        {"PUT", R"(/api/v1/staff/([A-Za-z0-9._-]{1,64})/password)", handle_reset_staff_password,
         Access::staff, 0},
        {"PUT", R"(/api/v1/staff/([A-Za-z0-9._-]{1,64}))", handle_change_staff, Access::staff, 0},
        {"GET", "/metrics", handle_metrics, Access::scrape, 0},
    };
    return routes;
}

}  // namespace ck

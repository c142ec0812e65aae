// The route table: the single place that lists the whole HTTP interface (SPEC section 5).
#pragma once

#include <httplib.h>

#include <cstddef>
#include <string>
#include <vector>

#include "app/attendee_search.hpp"
#include "app/config.hpp"
#include "http/staff_auth.hpp"
#include "net/client_address.hpp"
#include "net/failure_throttle.hpp"
#include "net/rate_limit.hpp"

namespace ck {

class CheckinService;
class Device;
class SyncControl;

// What the handlers work with, wired by the serve command (cli/cmd_serve.cpp): the device's
// state, the check-in use case, a narrow control of the sync, and HTTP's own limits.
struct HttpContext {
    HttpContext(Device& device, CheckinService& checkins, SyncControl& sync,
                std::string web_dir = {});

    Device& device;
    CheckinService& checkins;
    SyncControl& sync;
    std::string web_dir;  // serve pages from disk (development); empty: the embedded pages
    // Where the server listens: config.listen until the serve command has bound the socket
    // and sets the port it got (for the display's phone address, app/phone_address.hpp).
    ListenAddress listening;
    RateLimiter checkin_limiter;   // badge and phone check-ins, per client address
    RateLimiter login_limiter;     // staff logins (the scrypt work), per client address
    LoginThrottle login_throttle;  // growing delays after wrong passwords
    ClientAddresses clients;       // who a request comes from (trusted proxies)
    // Failed phone identifications per client address: 4 free, then 60 s, 120 s ... up to
    // 15 minutes. Successes never count, so a venue's NAT does not lock out the sixth
    // person; the check-in limiter bounds the rest.
    FailureThrottle phone_failures;
    std::string metrics_token;  // the scrape token (metrics.token_file); empty: none
    // True when `req` carries "Authorization: Bearer <metrics_token>".
    bool scrape_token_matches(const httplib::Request& req) const;
    AttendeeSearch attendee_search;  // the staff's search, with the roster's folded names
};

// What a handler gets: the parsed request, its body (already read and within the route's
// size limit) and the context.
struct ApiRequest {
    const httplib::Request& http;
    const std::string& body;
    HttpContext& context;
    Device& device;      // context.device
    std::string staff;   // the logged-in staff member on staff routes, else empty
    std::string client;  // the client's address (context.clients.of(http))
};

using Handler = void (*)(const ApiRequest& request, httplib::Response& response);

enum class Access {
    open,    // anyone on the network
    staff,   // a logged-in staff session (issue 3)
    scrape,  // a staff session, or the Prometheus scrape token (config metrics.token_file)
};

struct Route {
    const char* method;   // GET, POST, PUT, DELETE
    const char* pattern;  // httplib pattern (a regex for paths with ids)
    Handler handler;
    Access access;
    std::size_t max_body;  // 0: the configured default (limits.max_body_bytes)
};

// Roster uploads may be larger than other bodies: 2,000 attendees fit well in 4 MiB.
inline constexpr std::size_t kRosterMaxBytes = 4u << 20;

// A walk-in's body: one attendee (at most about 600 bytes of fields) and room to spare.
inline constexpr std::size_t kAttendeeMaxBytes = 4096;

const std::vector<Route>& route_table();

// Handlers, grouped by file (handle_*.cpp).
void handle_healthz(const ApiRequest& request, httplib::Response& response);
void handle_get_module(const ApiRequest& request, httplib::Response& response);
void handle_page(const ApiRequest& request, httplib::Response& response);
void handle_post_checkin(const ApiRequest& request, httplib::Response& response);
// handle_phone.cpp
void handle_display_state(const ApiRequest& request, httplib::Response& response);
void handle_phone_checkin(const ApiRequest& request, httplib::Response& response);
void handle_phone_identify(const ApiRequest& request, httplib::Response& response);
// staff_auth.cpp
void handle_get_session(const ApiRequest& request, httplib::Response& response);
void handle_login(const ApiRequest& request, httplib::Response& response);
void handle_logout(const ApiRequest& request, httplib::Response& response);
// handle_staff.cpp
void handle_summary(const ApiRequest& request, httplib::Response& response);
void handle_list_attendees(const ApiRequest& request, httplib::Response& response);
void handle_get_attendee(const ApiRequest& request, httplib::Response& response);
void handle_add_attendee(const ApiRequest& request, httplib::Response& response);
void handle_manual_checkin(const ApiRequest& request, httplib::Response& response);
void handle_manual_checkout(const ApiRequest& request, httplib::Response& response);
void handle_session_presence(const ApiRequest& request, httplib::Response& response);
void handle_void_checkin(const ApiRequest& request, httplib::Response& response);
// handle_staff_accounts.cpp (an admin's)
void handle_list_staff(const ApiRequest& request, httplib::Response& response);
void handle_add_staff(const ApiRequest& request, httplib::Response& response);
void handle_reset_staff_password(const ApiRequest& request, httplib::Response& response);
void handle_change_staff(const ApiRequest& request, httplib::Response& response);
// handle_roster.cpp
void handle_import_roster(const ApiRequest& request, httplib::Response& response);
// handle_reports.cpp
void handle_badges(const ApiRequest& request, httplib::Response& response);
void handle_export(const ApiRequest& request, httplib::Response& response);
void handle_completions(const ApiRequest& request, httplib::Response& response);
void handle_close_module(const ApiRequest& request, httplib::Response& response);
void handle_audit(const ApiRequest& request, httplib::Response& response);
// handle_admin.cpp
void handle_get_sync(const ApiRequest& request, httplib::Response& response);
void handle_post_sync(const ApiRequest& request, httplib::Response& response);
void handle_set_clock(const ApiRequest& request, httplib::Response& response);
void handle_list_held(const ApiRequest& request, httplib::Response& response);
void handle_file_held(const ApiRequest& request, httplib::Response& response);
void handle_metrics(const ApiRequest& request, httplib::Response& response);

}  // namespace ck

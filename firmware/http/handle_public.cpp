// Public, read-only routes: pages, health, the module.
#include <nlohmann/json.hpp>

#include "app/device.hpp"
#include "http/api_json.hpp"
#include "http/embedded_web.hpp"
#include "http/routes.hpp"
#include "net/error.hpp"

namespace ck {

void handle_page(const ApiRequest& request, httplib::Response& res)
{
    // "/" is the kiosk page; "/staff" is staff.html and so on; assets keep their names.
    std::string path = request.http.path == "/" ? "/index.html" : request.http.path;
    if (path == "/p") path = "/phone";
    if (path.find('.') == std::string::npos) path += ".html";
    static const WebFiles files(embedded_web_assets());
    auto file = files.find(path, request.context.web_dir);
    if (!file) {
        write_error(res,
                    Status::error(err::not_found, "There is nothing at " + request.http.path + ".",
                                  "Check the address."));
        return;
    }
    // Pages and assets are revalidated at every use (Cache-Control: no-cache, server.cpp):
    // an unchanged file answers 304 without its body, so a tablet on venue Wi-Fi fetches
    // each file once per version of it, and a new firmware's files are used at once.
    res.set_header("ETag", file->etag);
    if (etag_matches(request.http.get_header_value("If-None-Match"), file->etag)) {
        res.status = 304;
        return;
    }
    res.status = 200;
    res.set_content(std::move(file->body), file->mime);
}

void handle_healthz(const ApiRequest& request, httplib::Response& res)
{
    Device& device = request.device;
    ClockReading clock = device.clock.read();
    write_json(res, 200,
               {{"status", "ok"},
                {"version", COURSE_KIOSK_VERSION},
                {"module_id", device.config.module.id()},
                {"time", format_rfc3339(clock.now, device.config.module.zone)},
                {"clock_trusted", clock.trusted},
                {"clock_source", clock.source},
                {"held_checkins", device.store->held_count()}});
}

void handle_get_module(const ApiRequest& request, httplib::Response& res)
{
    Device& device = request.device;
    const Schedule& schedule = *device.schedule;
    Instant now = device.clock.now();
    nlohmann::json body = module_to_json(device.config.module);
    const ResolvedSession* open = schedule.open_session(now);
    body["open_session"] = open ? session_summary(schedule, *open) : nlohmann::json(nullptr);
    const ResolvedSession* next = schedule.next_session(now);
    if (next != nullptr) {
        body["next_session"] = session_summary(schedule, *next);
        body["next_session"]["window_opens_at"] =
            format_rfc3339(next->window_opens, device.config.module.zone);
    } else {
        body["next_session"] = nullptr;
    }
    body["now"] = format_rfc3339(now, device.config.module.zone);  // the pages' clock
    write_json(res, 200, body);
}

}  // namespace ck

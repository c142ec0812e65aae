// Staff routes about the device itself: sync status, the clock, metrics.
#include <algorithm>
#include <optional>
#include <sstream>

#include "app/checkin_service.hpp"
#include "app/clock_correction.hpp"
#include "app/device.hpp"
#include "app/presence_report.hpp"
#include "app/process_stats.hpp"
#include "app/sync_control.hpp"
#include "http/routes.hpp"
#include "net/error.hpp"
#include "net/head_loop.hpp"
#include "net/worker_pool.hpp"

namespace ck {

void handle_get_sync(const ApiRequest& request, httplib::Response& res)
{
    write_json(res, 200, request.context.sync.status());
}

void handle_post_sync(const ApiRequest& request, httplib::Response& res)
{
    if (!request.context.sync.configured()) {
        write_error(res, Status::error(err::sync_not_configured, "No registry is configured.",
                                       "Add a \"registry\" to the config; events are kept until "
                                       "then."));
        return;
    }
    request.context.sync.wake();
    write_json(res, 202, {{"status", "queued"}});
}

void handle_set_clock(const ApiRequest& request, httplib::Response& res)
{
    Device& device = request.device;
    auto body = nlohmann::json::parse(request.body, nullptr, false);
    std::optional<Instant> t;
    if (body.is_object() && body.contains("time") && body["time"].is_string()) {
        t = parse_rfc3339(body["time"].get<std::string>());
    }
    // Plausibility: a browser's clock, not a typo or a dead battery.
    const Instant earliest{std::chrono::seconds(1735689600)};  // 2025-01-01
    const Instant latest{std::chrono::seconds(4102444800)};    // 2100-01-01
    if (!t || *t < earliest || *t >= latest) {
        write_error(res, Status::error(err::malformed_request,
                                       "Send {\"time\": \"2026-11-23T08:41:07+01:00\"}, a "
                                       "plausible RFC 3339 time.",
                                       "The staff page sends this browser's clock."));
        return;
    }
    ClockCorrection done =
        correct_clock(device, request.context.checkins, *t, "staff", request.staff);
    const FilingReport& filed = done.filed;
    write_json(res, 200,
               {{"time", format_rfc3339(done.after, device.config.module.zone)},
                {"trusted", device.clock.trusted()},
                {"source", device.clock.trust_source()},
                {"offset_s", device.clock.offset().count()},
                {"held_filed", filed.filed + filed.duplicates},
                {"held", device.store->held_count()}});
}

// GET /api/v1/held: check-ins held while the clock was not trusted, oldest first.
void handle_list_held(const ApiRequest& request, httplib::Response& res)
{
    nlohmann::json list = nlohmann::json::array();
    for (const HeldCheckin& h : request.device.store->held_checkins()) {
        auto attendee = request.device.store->attendee(h.attendee_id);
        list.push_back({{"id", h.id},
                        {"attendee_id", h.attendee_id},
                        {"display_name", attendee ? attendee->display_name() : h.attendee_id},
                        {"source", h.source},
                        {"device_time", h.device_time},
                        {"problem", h.problem}});
    }
    write_json(res, 200, {{"held", list}});
}

// POST /api/v1/held/{id}/file {"session_id"}: staff file a held check-in by hand.
void handle_file_held(const ApiRequest& request, httplib::Response& res)
{
    Device& device = request.device;
    auto body = nlohmann::json::parse(request.body, nullptr, false);
    if (!body.is_object() || !body.contains("session_id") || !body["session_id"].is_string()) {
        write_error(res, Status::error(err::malformed_request, "Send {\"session_id\": \"d1-am\"}.",
                                       "Name the session this check-in belongs to."));
        return;
    }
    Status s = request.context.checkins.file_held_by_hand(
        request.http.matches[1], body["session_id"].get<std::string>(), request.staff);
    if (!s) {
        write_error(res, s);
        return;
    }
    write_json(res, 200, {{"held", device.store->held_count()}});
}

void handle_metrics(const ApiRequest& request, httplib::Response& res)
{
    Device& device = request.device;
    auto sync = request.context.sync.status();
    std::ostringstream out;
    out.precision(15);
    auto metric = [&](const char* type, const char* name, const char* help, auto value) {
        out << "# HELP " << name << " " << help << "\n# TYPE " << name << " " << type << "\n"
            << name << " " << value << "\n";
    };
    auto gauge = [&](const char* name, const char* help, auto value) {
        metric("gauge", name, help, value);
    };
    auto counter = [&](const char* name, const char* help, auto value) {
        metric("counter", name, help, value);
    };
    gauge("course_kiosk_attendees", "Attendees in the roster.", device.store->attendee_count());
    counter("course_kiosk_checkins_total", "Check-ins recorded, voided ones included.",
            device.store->checkin_count());
    gauge("course_kiosk_held_checkins",
          "Check-ins held until the clock is trusted, not yet filed under a session.",
          device.store->held_count());
    gauge("course_kiosk_events_last_seq", "Sequence number of the newest event.",
          sync["last_seq"].get<std::uint64_t>());
    gauge("course_kiosk_sync_pending_events", "Events not yet acknowledged by the registry.",
          sync["pending"].get<std::uint64_t>());
    Instant now = device.clock.now();
    // Ages are at least 0 (a clock set back since would make them negative); a figure that
    // does not exist (nothing pending, never synced) is left out, not given a sentinel.
    auto age_of = [&](const nlohmann::json& text) -> std::optional<long long> {
        if (!text.is_string()) return std::nullopt;
        auto t = parse_rfc3339(text.get<std::string>());
        if (!t) return std::nullopt;
        return std::max<long long>(0, (now - *t).count());
    };
    if (auto age = age_of(sync["oldest_pending_at"])) {
        gauge("course_kiosk_sync_oldest_pending_age_seconds",
              "Age of the oldest event the registry has not acknowledged.", *age);
    }
    if (auto age = age_of(sync["last_success"])) {
        gauge("course_kiosk_sync_last_success_age_seconds", "Seconds since the last complete sync.",
              *age);
    }
    gauge("course_kiosk_sync_acked_through", "Highest seq the registry acknowledged.",
          sync["acked_through"].get<std::uint64_t>());
    if (sync["last_error"].is_object()) {
        out << "# HELP course_kiosk_sync_last_error_time_seconds When the last sync error "
               "happened (unix time), by code.\n"
            << "# TYPE course_kiosk_sync_last_error_time_seconds gauge\n";
        auto at = parse_rfc3339(sync["last_error"].value("at", ""));
        out << "course_kiosk_sync_last_error_time_seconds{code=\""
            << sync["last_error"].value("code", "") << "\"} "
            << (at ? at->time_since_epoch().count() : 0) << "\n";
    }
    gauge("course_kiosk_clock_trusted", "1 when the device clock is trusted.",
          device.clock.trusted() ? 1 : 0);
    gauge("course_kiosk_store_map_bytes", "LMDB map size.", device.store->map_size());
    gauge("course_kiosk_store_used_bytes", "LMDB pages in use.", device.store->used_bytes());
    counter("course_kiosk_store_write_batches_total", "Group-commit transactions so far.",
            device.store->write_queue().batches());
    counter("course_kiosk_store_write_jobs_total", "Writes committed through the group commit.",
            device.store->write_queue().jobs());
    if (auto workers = WorkerPool::serving_counts()) {
        gauge("course_kiosk_http_threads", "HTTP worker threads alive.", workers->threads);
        gauge("course_kiosk_http_busy_threads", "HTTP worker threads serving a connection.",
              workers->busy);
        gauge("course_kiosk_http_queued_connections", "Connections waiting for a worker thread.",
              workers->queued);
        gauge("course_kiosk_http_peak_threads", "Most HTTP worker threads alive at once.",
              workers->peak_threads);
        counter("course_kiosk_http_worker_refusals_total",
                "Requests that found every worker busy and the queue full (they wait in line).",
                workers->refused);
    }
    if (auto loop = HeadLoop::serving_counts()) {
        gauge("course_kiosk_http_waiting_connections",
              "Connections waiting for their next request head (no thread held).", loop->waiting);
        gauge("course_kiosk_http_ready_connections",
              "Requests whose head has arrived, waiting in line for a worker thread.", loop->ready);
        gauge("course_kiosk_http_head_bytes", "Bytes of request heads being read.",
              loop->buffered_bytes);
        counter("course_kiosk_http_busy_refusals_total",
                "Requests answered 503 server_busy: no worker in time, or heads over budget.",
                loop->refused_busy);
        counter("course_kiosk_http_head_timeouts_total",
                "Request heads not complete in time (408).", loop->timed_out);
    }
    out << "# HELP course_kiosk_session_present Valid check-ins per session (presence mode: "
           "valid entries; people inside now: course_kiosk_presence_inside).\n"
        << "# TYPE course_kiosk_session_present gauge\n";
    for (const auto& [session, count] : device.store->session_counts()) {
        out << "course_kiosk_session_present{session=\"" << session << "\"} " << count.present
            << "\n";
    }
    // Presence mode: the open session (or the one just ended) as the dashboard shows it.
    if (device.config.module.presence()) {
        const Schedule& schedule = *device.schedule;
        const ResolvedSession* s = schedule.open_session(now);
        if (s == nullptr) s = session_to_leave(schedule, now);
        SessionPresenceReport report;
        if (s != nullptr) report = session_presence_report(device, *s, now);
        const std::string label = s != nullptr ? s->spec->id : "";
        out << "# HELP course_kiosk_presence_inside Attendees inside the open session now.\n"
            << "# TYPE course_kiosk_presence_inside gauge\n"
            << "course_kiosk_presence_inside{session=\"" << label << "\"} " << report.inside << "\n"
            << "# HELP course_kiosk_presence_left_early Attendees of the open session who left "
               "before its end.\n"
            << "# TYPE course_kiosk_presence_left_early gauge\n"
            << "course_kiosk_presence_left_early{session=\"" << label << "\"} " << report.left_early
            << "\n"
            << "# HELP course_kiosk_presence_attended Attendees of the open session whose "
               "minutes reach min_presence_pct so far.\n"
            << "# TYPE course_kiosk_presence_attended gauge\n"
            << "course_kiosk_presence_attended{session=\"" << label << "\"} " << report.attended
            << "\n";
    }
    // The figures every Prometheus client library exports for its process.
    if (auto process = read_process_stats()) {
        gauge("process_resident_memory_bytes", "Resident memory size in bytes.",
              process->resident_bytes);
        gauge("process_virtual_memory_bytes", "Virtual memory size in bytes.",
              process->virtual_bytes);
        gauge("process_open_fds", "Number of open file descriptors.", process->open_fds);
        gauge("process_max_fds", "Maximum number of open file descriptors.", process->max_fds);
        gauge("process_start_time_seconds", "Start time of the process since the unix epoch.",
              process->start_time_seconds);
        counter("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.",
                process->cpu_seconds);
    }
    res.status = 200;
    res.set_content(out.str(), "text/plain; version=0.0.4; charset=utf-8");
}

}  // namespace ck

// Staff routes about the device itself: sync status, the clock, metrics.
#include <algorithm>
#include <sstream>

#include "app/checkin_service.hpp"
#include "app/clock_correction.hpp"
#include "app/device.hpp"
#include "app/sync_control.hpp"
#include "http/error.hpp"
#include "http/routes.hpp"
#include "http/worker_pool.hpp"

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
    auto gauge = [&](const char* name, const char* help, auto value) {
        out << "# HELP " << name << " " << help << "\n# TYPE " << name << " gauge\n"
            << name << " " << value << "\n";
    };
    gauge("course_kiosk_attendees", "Attendees in the roster.", device.store->attendee_count());
    gauge("course_kiosk_checkins", "Check-ins recorded, voided ones included.",
          device.store->checkin_count());
    gauge("course_kiosk_events_last_seq", "Sequence number of the newest event.",
          sync["last_seq"].get<std::uint64_t>());
    gauge("course_kiosk_sync_pending_events", "Events not yet acknowledged by the registry.",
          sync["pending"].get<std::uint64_t>());
    Instant now = device.clock.now();
    auto age_of = [&](const nlohmann::json& text) -> long long {
        if (!text.is_string()) return -1;
        auto t = parse_rfc3339(text.get<std::string>());
        // A clock set back since then would make it negative: an age is at least 0.
        return t ? std::max<long long>(0, (now - *t).count()) : -1;
    };
    gauge("course_kiosk_sync_oldest_pending_age_seconds",
          "Age of the oldest unacknowledged event (-1: none).", age_of(sync["oldest_pending_at"]));
    gauge("course_kiosk_sync_last_success_age_seconds",
          "Seconds since the last complete sync (-1: never).", age_of(sync["last_success"]));
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
    gauge("course_kiosk_store_write_batches", "Group-commit transactions so far.",
          device.store->write_queue().batches());
    gauge("course_kiosk_store_write_jobs", "Writes committed through the group commit.",
          device.store->write_queue().jobs());
    if (auto workers = WorkerPool::serving_counts()) {
        gauge("course_kiosk_http_threads", "HTTP worker threads alive.", workers->threads);
        gauge("course_kiosk_http_busy_threads", "HTTP worker threads serving a connection.",
              workers->busy);
        gauge("course_kiosk_http_queued_connections", "Connections waiting for a worker thread.",
              workers->queued);
        gauge("course_kiosk_http_peak_threads", "Most HTTP worker threads alive at once.",
              workers->peak_threads);
        gauge("course_kiosk_http_inline_connections",
              "Connections the accepting thread served itself (every worker busy, queue full).",
              workers->inline_runs);
    }
    out << "# HELP course_kiosk_session_present Valid check-ins per session.\n"
        << "# TYPE course_kiosk_session_present gauge\n";
    for (const auto& [session, count] : device.store->session_counts()) {
        out << "course_kiosk_session_present{session=\"" << session << "\"} " << count.present
            << "\n";
    }
    res.status = 200;
    res.set_content(out.str(), "text/plain; version=0.0.4; charset=utf-8");
}

}  // namespace ck

// Staff routes for running the day: summary, attendees, a walk-in, manual check-in, void.
#include <algorithm>
#include <cctype>
#include <charconv>

#include "app/attendee_list.hpp"
#include "app/checkin_service.hpp"
#include "app/device.hpp"
#include "app/presence_report.hpp"
#include "app/sync_control.hpp"
#include "app/walk_in.hpp"
#include "core/attendance.hpp"
#include "core/password.hpp"
#include "http/api_json.hpp"
#include "http/routes.hpp"
#include "net/error.hpp"
#include "net/web_assets.hpp"

namespace ck {
namespace {

constexpr std::size_t kMaxReasonBytes = 500;  // a void's or a manual check-in's reason

// Answers 304 when the client's If-None-Match matches; else sends `body` with its ETag.
// `volatile_pointers` (JSON pointers to the current time and such) are left out of the tag.
void write_json_with_etag(const httplib::Request& req, httplib::Response& res,
                          const nlohmann::json& body,
                          std::initializer_list<const char*> volatile_pointers = {})
{
    nlohmann::json stable = body;
    for (const char* pointer : volatile_pointers) {
        nlohmann::json::json_pointer p(pointer);
        if (stable.contains(p)) stable[p] = nullptr;
    }
    std::string etag = "\"" + sha256_hex(stable.dump()).substr(0, 24) + "\"";
    res.set_header("ETag", etag);
    if (etag_matches(req.get_header_value("If-None-Match"), etag)) {
        res.status = 304;
        return;
    }
    write_json(res, 200, body);
}

Result<nlohmann::json> parse_object_body(const std::string& body)
{
    if (body.find_first_not_of(" \t\r\n") == std::string::npos) return nlohmann::json::object();
    auto json = nlohmann::json::parse(body, nullptr, false);
    if (json.is_discarded() || !json.is_object()) {
        return Status::error(err::malformed_request, "The request body must be a JSON object.",
                             "Send JSON such as {\"session_id\": \"d1-am\"}.");
    }
    return json;
}

// ?limit=N: 1 to kAttendeePageMax, kAttendeePageDefault when absent.
Result<std::size_t> parse_page_limit(const httplib::Request& req)
{
    if (!req.has_param("limit")) return kAttendeePageDefault;
    const std::string text = req.get_param_value("limit");
    std::size_t value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size() || value == 0 ||
        value > kAttendeePageMax) {
        return Status::error(
            err::malformed_request,
            "limit must be a whole number from 1 to " + std::to_string(kAttendeePageMax) + ".",
            "Ask for pages of " + std::to_string(kAttendeePageDefault) +
                " (the default), and follow each page's next with ?cursor=.");
    }
    return value;
}

}  // namespace

void handle_summary(const ApiRequest& request, httplib::Response& res)
{
    Device& device = request.device;
    const Schedule& schedule = *device.schedule;
    const ModuleEdition& module = device.config.module;
    Instant now = device.clock.now();
    auto counts = device.store->session_counts();
    int expected = static_cast<int>(device.store->attendee_count());

    nlohmann::json sessions = nlohmann::json::array();
    for (const auto& s : schedule.sessions()) {
        nlohmann::json item = session_summary(schedule, s);
        const SessionCount& count = counts[s.spec->id];
        item["present"] = count.present;
        item["late"] = count.late;
        item["expected"] = expected;
        if (module.presence()) {
            // Presence mode: attendees who came (an entry counts once however often they
            // came back), inside now, left before the end, and attended by the minutes.
            SessionPresenceReport report;
            if (s.window_opens <= now) report = session_presence_report(device, s, now);
            item["present"] = report.entered;
            item["inside"] = report.inside;
            item["left_early"] = report.left_early;
            item["attended"] = report.attended;
        }
        sessions.push_back(std::move(item));
    }
    const ResolvedSession* open = schedule.open_session(now);
    const ResolvedSession* next = schedule.next_session(now);
    std::string now_text = format_rfc3339(now, module.zone);
    nlohmann::json body = {
        {"module",
         {{"id", module.id()},
          {"title", module.title},
          {"venue", module.venue},
          {"timezone", module.timezone}}},
        {"now", now_text},
        {"today", now_text.substr(0, 10)},
        {"open_session", open ? session_summary(schedule, *open) : nlohmann::json(nullptr)},
        {"next_session", next ? session_summary(schedule, *next) : nlohmann::json(nullptr)},
        {"expected", expected},
        {"sessions", sessions},
        {"clock",
         {{"trusted", device.clock.trusted()},
          {"source", device.clock.trust_source()},
          {"time", now_text},
          {"held", device.store->held_count()}}},
        {"sync", request.context.sync.status()},
        {"attendance_mode", module.presence() ? "presence" : "session"},
        {"module_closed", device.store->module_closed()}};
    write_json_with_etag(request.http, res, body, {"/now", "/clock/time"});
}

// GET /api/v1/presence?session=ID (presence mode): who is inside the session now and who
// left before its end, with their minutes.
void handle_session_presence(const ApiRequest& request, httplib::Response& res)
{
    Device& device = request.device;
    const Schedule& schedule = *device.schedule;
    const ModuleEdition& module = device.config.module;
    if (!module.presence()) {
        write_error(res, Status::error(err::not_presence_mode,
                                       "This module takes attendance by session: nobody is "
                                       "inside or outside.",
                                       "See the attendees' check-ins instead."));
        return;
    }
    const Instant now = device.clock.now();
    const ResolvedSession* session = nullptr;
    if (request.http.has_param("session")) {
        session = schedule.find(request.http.get_param_value("session"));
        if (session == nullptr) {
            write_error(res, Status::error(err::malformed_request, "Unknown session.",
                                           "Use a session id of this module, e.g. d1-am."));
            return;
        }
    } else {
        session = schedule.open_session(now);
        if (session == nullptr) session = session_to_leave(schedule, now);
    }
    nlohmann::json inside = nlohmann::json::array();
    nlohmann::json left_early = nlohmann::json::array();
    SessionPresenceReport report;
    if (session != nullptr) report = session_presence_report(device, *session, now);
    for (const SessionPresenceRow& row : report.rows) {
        auto attendee = device.store->attendee(row.attendee_id);
        nlohmann::json item = {
            {"attendee_id", row.attendee_id},
            {"family_name", attendee ? attendee->family_name : ""},
            {"given_name", attendee ? attendee->given_name : ""},
            {"minutes_present", row.presence.minutes_present},
            {"attended", row.presence.attended},
            {"since", row.presence.intervals.empty()
                          ? nlohmann::json(nullptr)
                          : nlohmann::json(format_local_hhmm(row.presence.intervals.back().entered,
                                                             module.zone))}};
        if (row.presence.inside && now < session->end) inside.push_back(std::move(item));
        if (row.left_early) {
            item["left_at"] = format_local_hhmm(*row.left_at, module.zone);
            left_early.push_back(std::move(item));
        }
    }
    write_json_with_etag(
        request.http, res,
        {{"session", session ? session_summary(schedule, *session) : nlohmann::json(nullptr)},
         {"now", format_rfc3339(now, module.zone)},
         {"entered", report.entered},
         {"attended", report.attended},
         {"inside", std::move(inside)},
         {"left_early", std::move(left_early)}},
        {"/now"});
}

void handle_list_attendees(const ApiRequest& request, httplib::Response& res)
{
    Device& device = request.device;
    const httplib::Request& http = request.http;
    AttendeeQuery query;
    query.text = http.get_param_value("q");
    query.cursor = http.get_param_value("cursor");
    if (auto limit = parse_page_limit(http); !limit) {
        write_error(res, limit.status());
        return;
    } else {
        query.limit = *limit;
    }
    if (http.has_param("present") || http.has_param("session")) {
        const std::string present = http.get_param_value("present");
        query.session_id = http.get_param_value("session");
        if ((present != "true" && present != "false") ||
            device.schedule->find(query.session_id) == nullptr) {
            write_error(res, Status::error(err::malformed_request,
                                           "present=true|false goes with session=ID, a session "
                                           "of this module.",
                                           "For example ?session=d1-am&present=false."));
            return;
        }
        query.present = present == "true";
    }
    const Schedule& schedule = *device.schedule;
    nlohmann::json sessions = nlohmann::json::array();
    for (const auto& s : schedule.sessions()) sessions.push_back(session_summary(schedule, s));
    AttendeePage page = list_attendees(device, request.context.attendee_search, query);
    nlohmann::json attendees = nlohmann::json::array();
    const ModuleEdition& module = device.config.module;
    const Instant now = device.clock.now();
    for (const auto& row : page.rows) {
        nlohmann::json checkins = nlohmann::json::object();
        int attended = 0;
        for (const auto& c : row.checkins) {
            if (c.voided || c.exit() || checkins.contains(c.session_id)) continue;
            ++attended;
            checkins[c.session_id] = checkin_to_json(c);  // the first entry
        }
        nlohmann::json item = attendee_to_json(row.attendee);
        if (module.presence()) {
            // Attended by the minutes; each scanned session's minutes so far.
            const EventAttendance a = attendance_of(module, row.checkins, now);
            attended = a.result.sessions_attended;
            nlohmann::json minutes = nlohmann::json::object();
            for (const auto& [session_id, p] : a.presence) {
                minutes[session_id] = {{"minutes_present", p.minutes_present},
                                       {"attended", p.attended},
                                       {"inside", p.inside && !p.no_exit},
                                       {"no_exit", p.no_exit}};
            }
            item["presence"] = std::move(minutes);
        }
        item["sessions_attended"] = attended;
        item["checkins"] = std::move(checkins);
        attendees.push_back(std::move(item));
    }
    write_json_with_etag(http, res,
                         {{"sessions", sessions},
                          {"attendees", attendees},
                          {"total", page.total},
                          {"matched", page.matched},
                          {"limit", query.limit},
                          {"next", page.next ? nlohmann::json(*page.next) : nlohmann::json()}});
}

void handle_get_attendee(const ApiRequest& request, httplib::Response& res)
{
    Device& device = request.device;
    std::string id = request.http.matches[1];
    auto attendee = device.store->attendee(id);
    auto checkins = device.store->checkins_of_attendee(id);
    if (!attendee && checkins.empty()) {
        write_error(res, Status::error(err::not_found, "There is no attendee " + id + ".",
                                       "Check the registration number."));
        return;
    }
    nlohmann::json history = nlohmann::json::array();
    for (const auto& c : checkins) history.push_back(checkin_to_json(c));
    const ModuleEdition& module = device.config.module;
    const EventAttendance attendance = attendance_of(module, checkins, device.clock.now());
    const CompletionResult& completion = attendance.result;
    nlohmann::json person = attendee ? attendee_to_json(*attendee)
                                     : nlohmann::json{{"id", id}, {"not_in_roster", true}};
    nlohmann::json body = {{"attendee", person},
                           {"checkins", history},
                           {"completion",
                            {{"sessions_attended", completion.sessions_attended},
                             {"sessions_total", completion.sessions_total},
                             {"attendance_complete", completion.attendance_complete},
                             {"cme_credits", completion.cme_credits}}}};
    if (module.presence()) {
        nlohmann::json presence = nlohmann::json::object();
        for (const auto& [session_id, p] : attendance.presence) {
            presence[session_id] = presence_to_json(p, module.zone);
        }
        body["presence"] = std::move(presence);
    }
    write_json(res, 200, body);
}

// POST /api/v1/attendees: a walk-in (app/walk_in.hpp). 201 with the attendee and the
// address of their badge; 422 invalid_attendee with {"field","problem"}, the roster
// import's row code; 409 attendee_exists with {"existing_id"}.
void handle_add_attendee(const ApiRequest& request, httplib::Response& res)
{
    auto body = parse_object_body(request.body);
    if (!body) {
        write_error(res, body.status());
        return;
    }
    WalkInResult added = add_walk_in(request.device, *body, request.staff);
    if (added.status.code() == err::invalid_attendee.name()) {
        const auto optional = [](const std::string& s) {
            return s.empty() ? nlohmann::json(nullptr) : nlohmann::json(s);
        };
        write_error(
            res, added.status,
            {{"field", optional(added.problem.field)}, {"problem", optional(added.problem.code)}});
        return;
    }
    if (added.status.code() == err::attendee_exists.name()) {
        write_error(res, added.status, {{"existing_id", added.existing.id}});
        return;
    }
    if (!added.status) {
        write_error(res, added.status);
        return;
    }
    write_json(res, 201,
               {{"status", "created"},
                {"attendee", attendee_to_json(added.attendee)},
                {"badge_url", "/api/v1/badges?ids=" + added.attendee.id}});
}

namespace {

// The body of a manual check-in or check-out: session_id (null: let the device choose) and
// reason, both optional; `at` for a check-out.
struct ManualBody {
    const ResolvedSession* session = nullptr;
    std::string reason;
    std::optional<Instant> at;
};

Result<ManualBody> parse_manual_body(const Schedule& schedule, const std::string& text,
                                     bool with_time)
{
    auto body = parse_object_body(text);
    if (!body) return body.status();
    ManualBody out;
    if (auto it = body->find("session_id"); it != body->end() && !it->is_null()) {
        if (!it->is_string() || (out.session = schedule.find(it->get<std::string>())) == nullptr) {
            return Status::error(err::malformed_request, "Unknown session_id.",
                                 "Use a session id of this module, e.g. \"d1-am\".");
        }
    }
    if (auto it = body->find("reason"); it != body->end() && !it->is_null()) {
        if (!it->is_string() || it->get<std::string>().size() > kMaxReasonBytes) {
            return Status::error(err::malformed_request,
                                 "The reason must be text of at most 500 bytes.",
                                 "Say briefly why, e.g. \"attended, forgot the badge\".");
        }
        out.reason = it->get<std::string>();
        out.reason.erase(0, out.reason.find_first_not_of(" \t\r\n"));
        out.reason.erase(out.reason.find_last_not_of(" \t\r\n") + 1);
    }
    if (auto it = body->find("at"); with_time && it != body->end() && !it->is_null()) {
        if (it->is_string()) out.at = parse_rfc3339(it->get<std::string>());
        if (!out.at) {
            return Status::error(err::malformed_request, "\"at\" must be an RFC 3339 time.",
                                 "e.g. \"2026-11-23T16:05:00+01:00\".");
        }
    }
    return out;
}

}  // namespace

void handle_manual_checkin(const ApiRequest& request, httplib::Response& res)
{
    const Schedule& schedule = *request.device.schedule;
    auto body = parse_manual_body(schedule, request.body, false);
    if (!body) {
        write_error(res, body.status());
        return;
    }
    answer_checkin(schedule,
                   request.context.checkins.manual(request.http.matches[1], body->session,
                                                   request.staff, body->reason),
                   res);
}

void handle_manual_checkout(const ApiRequest& request, httplib::Response& res)
{
    const Schedule& schedule = *request.device.schedule;
    auto body = parse_manual_body(schedule, request.body, true);
    if (!body) {
        write_error(res, body.status());
        return;
    }
    answer_checkin(schedule,
                   request.context.checkins.exit_by_hand(request.http.matches[1], body->session,
                                                         body->at, request.staff, body->reason),
                   res);
}

void handle_void_checkin(const ApiRequest& request, httplib::Response& res)
{
    Device& device = request.device;
    auto body = parse_object_body(request.body);
    if (!body) {
        write_error(res, body.status());
        return;
    }
    auto reason = body->find("reason");
    if (reason == body->end() || !reason->is_string() ||
        reason->get<std::string>().find_first_not_of(" \t\r\n") == std::string::npos ||
        reason->get<std::string>().size() > kMaxReasonBytes) {
        write_error(
            res, Status::error(err::malformed_request, "A reason is required to void a check-in.",
                               "Say why, in up to 500 characters."));
        return;
    }
    auto voided =
        device.store->void_checkin(device.config.module.id(), std::string(request.http.matches[1]),
                                   reason->get<std::string>(), device.actor(request.staff));
    if (!voided) {
        write_error(res, voided.status());
        return;
    }
    write_json(res, 200, {{"checkin", checkin_to_json(*voided)}});
}

}  // namespace ck

#include "api/office.hpp"

#include <malloc.h>

#include <chrono>
#include <functional>
#include <optional>
#include <sstream>

#include "api/registry_assets.hpp"
#include "core/text_fold.hpp"
#include "log/log.hpp"
#include "model/progress_summaries.hpp"
#include "model/staff.hpp"
#include "net/error.hpp"

namespace ck::registry {

namespace {

using Handler = GuardedRoute::Handler;

Status not_logged_in()
{
    return Status::error(err::unauthenticated, "You are not logged in, or your session expired.",
                         "Log in on the office page.");
}

// The request's office session: 401 without one, 403 without its CSRF token on a
// state-changing request.
Result<OfficeSession> authorize(RegistryContext& context, const httplib::Request& req, Database& db)
{
    auto token = cookie_value(req, kOfficeCookie);
    if (!token) return not_logged_in();
    auto session = find_session(db, *token);
    if (!session) return session.status();
    if (!*session) return not_logged_in();
    if (req.method != "GET" &&
        !equal_secret(req.get_header_value("X-CSRF-Token"), (*session)->csrf_token)) {
        return Status::error(err::csrf_failed, "This request lacks a valid CSRF token.",
                             "Reload the office page and try again.");
    }
    (void)context;
    return **session;
}

// A logged-in staff member's request: a connection and their session, or the error answered.
struct StaffRequest {
    ConnectionPool::Lease db;
    OfficeSession session;
};

std::optional<StaffRequest> staff_request(RegistryContext& context, const httplib::Request& req,
                                          httplib::Response& res)
{
    auto db = context.pool.acquire();
    if (!db) {
        write_error(res, db.status());
        return std::nullopt;
    }
    auto session = authorize(context, req, **db);
    if (!session) {
        write_error(res, session.status());
        return std::nullopt;
    }
    return StaffRequest{std::move(*db), std::move(*session)};
}

// A handler for logged-in staff: the connection and the session are looked up first.
using StaffHandler = void (*)(RegistryContext&, const httplib::Request&, httplib::Response&,
                              Database&, const OfficeSession&);

Handler staff_only(RegistryContext& context, StaffHandler handler)
{
    return [&context, handler](const httplib::Request& req, httplib::Response& res,
                               const std::string&) {
        if (auto staff = staff_request(context, req, res)) {
            handler(context, req, res, *staff->db, staff->session);
        }
    };
}

// A handler for logged-in staff that answers with a stream: it gets the connection's lease
// to hand on to stream_rows.
using StaffStreamHandler = void (*)(RegistryContext&, const httplib::Request&, httplib::Response&,
                                    ConnectionPool::Lease);

Handler staff_stream(RegistryContext& context, StaffStreamHandler handler)
{
    return [&context, handler](const httplib::Request& req, httplib::Response& res,
                               const std::string&) {
        if (auto staff = staff_request(context, req, res)) {
            handler(context, req, res, std::move(staff->db));
        }
    };
}

// What a streamed answer holds until it is sent: the cursor, then the connection it runs
// on (members end in reverse order: the cursor's transaction ends before the connection
// goes back to the pool).
struct Streamed {
    ConnectionPool::Lease lease;
    Cursor cursor;
};

// Rows fetched per round trip: about 2 MB of progress texts.
constexpr int kFetchRows = 1000;
// Pieces of about this size go to the client (one chunk each).
constexpr std::size_t kChunkBytes = 256u << 10;

// Answers 200 with `head`, each row of `cursor` as `row` writes it with `separator` between
// them, and `tail`, written on the worker thread once the handler has returned (chunked
// transfer coding) while the rows are fetched: the list of 100,000 attendees is hundreds
// of MB and is never whole in memory. An error found while streaming ends the answer
// without its last chunk, so the client sees it fail; errors before it must be answered
// by the handler.
void stream_rows(httplib::Response& res, const char* content_type, ConnectionPool::Lease lease,
                 Cursor cursor, std::string head, std::function<std::string(const Rows&, int)> row,
                 std::string separator, std::string tail)
{
    auto state = std::make_shared<Streamed>(Streamed{std::move(lease), std::move(cursor)});
    res.status = 200;
    res.set_chunked_content_provider(
        content_type,
        [state, head = std::move(head), row = std::move(row), separator = std::move(separator),
         tail = std::move(tail)](std::size_t, httplib::DataSink& sink) {
            try {
                std::string piece = head;
                bool first = true;
                for (;;) {
                    auto rows = state->cursor.fetch(kFetchRows);
                    if (!rows) {
                        CK_ERROR("office", "a streamed answer failed: " << rows.status().message());
                        return false;
                    }
                    if (rows->count() == 0) break;
                    for (int r = 0; r < rows->count(); ++r) {
                        if (!first) piece += separator;
                        first = false;
                        piece += row(*rows, r);
                        if (piece.size() >= kChunkBytes) {
                            if (!sink.write(piece.data(), piece.size())) return false;
                            piece.clear();
                        }
                    }
                }
                piece += tail;
                if (!sink.write(piece.data(), piece.size())) return false;
                if (Status s = state->cursor.close(); !s) {
                    CK_WARN("office", "a streamed answer's transaction: " << s.message());
                }
                sink.done();
                return true;
            } catch (const std::exception& e) {
                // A worker thread must not see an exception from httplib's writer.
                CK_ERROR("office", "a streamed answer failed: " << e.what());
                return false;
            }
        },
        // The pieces passed through the worker's arena; give the free pages back.
        [](bool) { malloc_trim(0); });
}

std::int64_t unix_now()
{
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

void login(RegistryContext& context, const httplib::Request& req, httplib::Response& res,
           const std::string& text)
{
    const std::string client = context.clients.of(req);
    if (!context.login_limiter.allow(client)) {
        res.set_header("Retry-After", "60");
        return write_error(res,
                           Status::error(err::rate_limited, "Too many login attempts from here.",
                                         "Wait a minute and try again."));
    }
    auto body = nlohmann::json::parse(text, nullptr, false);
    if (!body.is_object() || !body.contains("username") || !body["username"].is_string() ||
        !body.contains("password") || !body["password"].is_string()) {
        return write_error(res,
                           Status::error(err::malformed_request,
                                         "Send {\"username\": \"...\", \"password\": \"...\"}.",
                                         "Both fields are strings."));
    }
    const std::string username = body["username"];
    const std::int64_t now = unix_now();
    if (std::int64_t wait = context.login_throttle.wait(username, client, now); wait > 0) {
        res.set_header("Retry-After", std::to_string(wait));
        return write_error(res, Status::error(err::rate_limited,
                                              "Too many wrong passwords; try again in " +
                                                  std::to_string(wait) + " seconds.",
                                              "Wait, or set a new password with course-registry "
                                              "staff add."));
    }
    auto db = context.pool.acquire();
    if (!db) return write_error(res, db.status());
    auto session = log_in(**db, username, body["password"].get<std::string>());
    if (!session) {
        if (session.status().code() == "bad_credentials") {
            context.login_throttle.failed(username, client, now);
            CK_WARN("auth",
                    "failed office login as " << username.substr(0, 64) << " from " << client);
        }
        return write_error(res, session.status());
    }
    context.login_throttle.succeeded(username, client);
    CK_INFO("auth", username << " logged in to the office from " << client);
    res.set_header("Set-Cookie",
                   session_cookie(kOfficeCookie, session->token, kOfficeSessionSeconds));
    write_json(res, 200, {{"username", session->username}, {"csrf_token", session->csrf_token}});
}

void get_session(RegistryContext&, const httplib::Request&, httplib::Response& res, Database&,
                 const OfficeSession& session)
{
    write_json(res, 200, {{"username", session.username}, {"csrf_token", session.csrf_token}});
}

void logout(RegistryContext&, const httplib::Request& req, httplib::Response& res, Database& db,
            const OfficeSession&)
{
    if (Status s = log_out(db, cookie_value(req, kOfficeCookie).value_or("")); !s) {
        return write_error(res, s);
    }
    res.set_header("Set-Cookie", session_cookie(kOfficeCookie, "", 0));
    write_json(res, 200, {{"status", "logged_out"}});
}

// GET /api/v1/attendees?q=: at most 50, by id; the search is accent-blind over the id and
// both names (core/text_fold.hpp), as on the device.
void search_attendees(RegistryContext&, const httplib::Request& req, httplib::Response& res,
                      Database& db, const OfficeSession&)
{
    constexpr std::size_t kMax = 50;
    const std::string q = req.get_param_value("q");
    const NameKeys query = fold_variants(q);
    auto rows = db.exec("SELECT id, family_name, given_name FROM attendees ORDER BY id");
    if (!rows) return write_error(res, rows.status());
    nlohmann::json found = nlohmann::json::array();
    for (int r = 0; r < rows->count() && found.size() < kMax; ++r) {
        if (!q.empty()) {
            const NameKeys family = fold_variants(rows->text(r, 1));
            const NameKeys given = fold_variants(rows->text(r, 2));
            const bool match = contains_name(fold_variants(rows->text(r, 0)), query) ||
                               contains_name(family, query) || contains_name(given, query) ||
                               contains_name(concat_keys(given, family), query) ||
                               contains_name(concat_keys(family, given), query);
            if (!match) continue;
        }
        found.push_back({{"id", rows->text(r, 0)},
                         {"family_name", rows->text(r, 1)},
                         {"given_name", rows->text(r, 2)}});
    }
    write_json(res, 200, {{"attendees", std::move(found)}});
}

// GET /api/v1/attendees/{id}/progress: the summary's text as it is stored.
void attendee_progress_route(RegistryContext& context, const httplib::Request& req,
                             httplib::Response& res, Database& db, const OfficeSession&)
{
    auto progress = context.summaries.progress_json(db, req.matches[1]);
    if (!progress) return write_error(res, progress.status());
    res.status = 200;
    res.set_content(std::move(*progress), "application/json");
}

// GET /api/v1/progress and GET /api/v1/cycles, ?cycle_complete=true|false&module_id=...:
// every attendee in id order, streamed; each as GET /api/v1/attendees/{id}/progress answers
// (`cycle_states_only` false), or the cycle state in short (cycle_state_to_json), the
// office's list of everyone.
void attendee_list(RegistryContext& context, const httplib::Request& req, httplib::Response& res,
                   ConnectionPool::Lease db, bool cycle_states_only)
{
    const std::string cycle = req.get_param_value("cycle_complete");
    if (!cycle.empty() && cycle != "true" && cycle != "false") {
        return write_error(
            res, Status::error(err::malformed_request, "cycle_complete is true or false.", ""));
    }
    ProgressFilter filter;
    if (!cycle.empty()) filter.cycle_complete = cycle == "true";
    filter.module_id = req.get_param_value("module_id");
    filter.cycle_states_only = cycle_states_only;
    auto cursor = context.summaries.open_list(*db, filter);
    if (!cursor) return write_error(res, cursor.status());
    stream_rows(
        res, "application/json", std::move(db), std::move(*cursor), "{\"attendees\":[",
        [](const Rows& rows, int r) { return rows.text(r, 0); }, ",", "]}");
}

void progress_list(RegistryContext& context, const httplib::Request& req, httplib::Response& res,
                   ConnectionPool::Lease db)
{
    attendee_list(context, req, res, std::move(db), false);
}

void cycles_list(RegistryContext& context, const httplib::Request& req, httplib::Response& res,
                 ConnectionPool::Lease db)
{
    attendee_list(context, req, res, std::move(db), true);
}

// GET /api/v1/export?format=csv|json[&module_id=][&separator=comma|semicolon], streamed.
void export_route(RegistryContext& context, const httplib::Request& req, httplib::Response& res,
                  ConnectionPool::Lease db)
{
    const std::string format = req.get_param_value("format");
    if (format != "csv" && format != "json") {
        return write_error(res, Status::error(err::malformed_request, "format is csv or json.",
                                              "For example /api/v1/export?format=csv"));
    }
    const std::string module_id = req.get_param_value("module_id");
    auto cursor = context.summaries.open_export(*db, module_id);
    if (!cursor) return write_error(res, cursor.status());
    const std::string name = "course-registry-" + (module_id.empty() ? "all" : module_id);
    res.set_header("Content-Disposition", "attachment; filename=\"" + name + "." + format + "\"");
    if (format == "json") {
        return stream_rows(
            res, "application/json", std::move(db), std::move(*cursor), "{\"rows\":[",
            [](const Rows& rows, int r) {
                return export_row(rows, r).dump(-1, ' ', false,
                                                nlohmann::json::error_handler_t::replace);
            },
            ",", "]}");
    }
    const char sep = req.get_param_value("separator") == "comma" ? ',' : ';';
    stream_rows(
        res, "text/csv; charset=utf-8", std::move(db), std::move(*cursor), export_csv_head(sep),
        [sep](const Rows& rows, int r) { return export_csv_line(export_row(rows, r), sep); }, "",
        "");
}

// GET /api/v1/editions: each edition with its roster size and its devices' sync health.
void editions_route(RegistryContext&, const httplib::Request&, httplib::Response& res, Database& db,
                    const OfficeSession&)
{
    auto editions = db.exec(
        "SELECT m.id, m.cycle, m.number, m.venue, "
        "(SELECT count(*) FROM roster_entries r WHERE r.module_id = m.id) "
        "FROM module_editions m ORDER BY m.cycle, m.number, m.id");
    if (!editions) return write_error(res, editions.status());
    auto devices = db.exec(
        "SELECT d.module_id, d.id, d.last_contact, d.revoked_at IS NOT NULL, "
        "coalesce((SELECT max(seq) FROM events e WHERE e.device_id = d.id), 0), "
        "(SELECT count(*) FROM events e WHERE e.device_id = d.id AND e.type = 'checkin' "
        " AND e.body->>'clock_untrusted' = 'true'), d.last_refusal::text "
        "FROM devices d ORDER BY d.module_id, d.id");
    if (!devices) return write_error(res, devices.status());
    nlohmann::json out = nlohmann::json::array();
    for (int r = 0; r < editions->count(); ++r) {
        nlohmann::json list = nlohmann::json::array();
        for (int d = 0; d < devices->count(); ++d) {
            if (devices->text(d, 0) != editions->text(r, 0)) continue;
            auto contact = devices->get(d, 2);
            auto refusal = devices->get(d, 6);
            list.push_back({{"device_id", devices->text(d, 1)},
                            {"last_contact", contact ? nlohmann::json(*contact) : nullptr},
                            {"revoked", devices->text(d, 3) == "t"},
                            {"acked_through", std::stoll(devices->text(d, 4))},
                            {"clock_untrusted_checkins", std::stoll(devices->text(d, 5))},
                            {"last_refusal",
                             refusal ? nlohmann::json::parse(*refusal) : nlohmann::json(nullptr)}});
        }
        out.push_back({{"module_id", editions->text(r, 0)},
                       {"cycle", editions->text(r, 1)},
                       {"number", std::stoi(editions->text(r, 2))},
                       {"venue", editions->text(r, 3)},
                       {"attendees", std::stoll(editions->text(r, 4))},
                       {"devices", std::move(list)}});
    }
    write_json(res, 200, {{"editions", std::move(out)}});
}

// GET /metrics, Prometheus text format: this process's counters and the database's totals.
// Open, as the health check is: counts only, no names. Behind the organiser's proxy, expose
// it to the monitoring only (docs/registry.md).
void metrics_route(RegistryContext& context, httplib::Response& res)
{
    auto lease = context.pool.acquire();
    if (!lease) return write_error(res, lease.status());
    Database& db = **lease;
    auto totals = db.exec(
        "SELECT (SELECT count(*) FROM events), (SELECT count(*) FROM devices), "
        "(SELECT count(*) FROM module_editions), (SELECT count(*) FROM attendees), "
        "(SELECT count(*) FROM stale_attendees)");
    if (!totals) return write_error(res, totals.status());
    const RegistryCounters& c = context.counters;
    std::ostringstream out;
    auto metric = [&out](const char* name, const char* type, const char* help, auto value) {
        out << "# HELP " << name << " " << help << "\n# TYPE " << name << " " << type << "\n"
            << name << " " << value << "\n";
    };
    metric("course_registry_batches_stored_total", "counter",
           "Event batches committed with new events.", c.batches_stored.load());
    metric("course_registry_batches_repeated_total", "counter",
           "Event batches acknowledged with nothing new (probes, resends).",
           c.batches_repeated.load());
    metric("course_registry_batches_refused_total", "counter",
           "Event batches refused (gap, conflict, wrong edition).", c.batches_refused.load());
    metric("course_registry_events_stored_total", "counter", "Events committed by this process.",
           c.events_stored.load());
    metric("course_registry_roster_pulls_total", "counter", "Rosters sent to devices.",
           c.roster_pulls.load());
    metric("course_registry_roster_unchanged_total", "counter", "Roster requests answered 304.",
           c.roster_unchanged.load());
    metric("course_registry_database_unavailable_total", "counter",
           "Answers 503 because PostgreSQL could not be reached.", c.database_unavailable.load());
    metric("course_registry_database_connections", "gauge",
           "PostgreSQL connections this process holds.", context.pool.open_connections());
    metric("course_registry_events", "gauge", "Events in the database.", totals->text(0, 0));
    metric("course_registry_devices", "gauge", "Devices in the database.", totals->text(0, 1));
    metric("course_registry_module_editions", "gauge", "Module editions in the database.",
           totals->text(0, 2));
    metric("course_registry_attendees", "gauge", "Attendees in the database.", totals->text(0, 3));
    metric("course_registry_progress_stale", "gauge",
           "Attendees whose progress summaries wait to be refreshed.", totals->text(0, 4));
    res.status = 200;
    res.set_content(out.str(), "text/plain; version=0.0.4; charset=utf-8");
}

// GET /office and the files it loads (embedded: web/office.*, and the staff dashboard's
// common.css, common.js, staff.css and staff-api.js), revalidated with their ETags.
void page(const httplib::Request& req, httplib::Response& res)
{
    static const WebFiles files(registry_web_assets());
    const std::string path = req.path == "/office" ? "/office.html" : req.path;
    auto file = files.find(path, "");
    if (!file || path.rfind("/schemas/", 0) == 0) {
        return write_error(res,
                           Status::error(err::not_found, "There is nothing at " + req.path + ".",
                                         "The office page is /office."));
    }
    res.set_header("ETag", file->etag);
    if (etag_matches(req.get_header_value("If-None-Match"), file->etag)) {
        res.status = 304;
        return;
    }
    res.status = 200;
    res.set_content(std::move(file->body), file->mime);
}

}  // namespace

std::vector<GuardedRoute> office_routes(RegistryContext& context)
{
    auto get = [&context](const char* pattern, StaffHandler handler) {
        return GuardedRoute{"GET", pattern, 0, 0, {}, staff_only(context, handler)};
    };
    // A state-changing staff route is admitted from its head: no session, no body read.
    auto admit_staff = [&context](const httplib::Request& req) -> Status {
        auto db = context.pool.acquire();
        if (!db) return db.status();
        auto session = authorize(context, req, **db);
        return session ? Status::ok() : session.status();
    };
    auto open = [](const char* pattern,
                   void (*handler)(const httplib::Request&, httplib::Response&)) {
        return GuardedRoute{"GET",
                            pattern,
                            0,
                            0,
                            {},
                            [handler](const httplib::Request& req, httplib::Response& res,
                                      const std::string&) { handler(req, res); }};
    };
    return {
        open("/",
             [](const httplib::Request&, httplib::Response& res) {
                 res.status = 302;
                 res.set_header("Location", "/office");
             }),
        open("/(office|office\\.js|office\\.css|common\\.css|common\\.js|staff\\.css|"
             "staff-api\\.js)",
             page),
        {"POST",
         "/api/v1/session",
         4096,
         0,
         {},
         [&context](const httplib::Request& req, httplib::Response& res, const std::string& body) {
             login(context, req, res, body);
         }},
        get("/api/v1/session", get_session),
        {"DELETE", "/api/v1/session", 0, 0, admit_staff, staff_only(context, logout)},
        get("/api/v1/attendees", search_attendees),
        get("/api/v1/attendees/([A-Za-z0-9._-]{1,64})/progress", attendee_progress_route),
        {"GET", "/api/v1/progress", 0, 0, {}, staff_stream(context, progress_list)},
        {"GET", "/api/v1/cycles", 0, 0, {}, staff_stream(context, cycles_list)},
        {"GET", "/api/v1/export", 0, 0, {}, staff_stream(context, export_route)},
        get("/api/v1/editions", editions_route),
        {"GET",
         "/metrics",
         0,
         0,
         {},
         [&context](const httplib::Request&, httplib::Response& res, const std::string&) {
             metrics_route(context, res);
         }},
    };
}

}  // namespace ck::registry

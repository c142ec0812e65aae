// Staff routes that hand data out: badges, exports, completion records, the audit log,
// and the module close.
#include <malloc.h>

#include <exception>
#include <functional>

#include "app/device.hpp"
#include "app/reports.hpp"
#include "http/routes.hpp"
#include "log/log.hpp"
#include "net/error.hpp"

namespace ck {
namespace {

std::vector<std::string> split_ids(const std::string& text)
{
    std::vector<std::string> ids;
    std::size_t start = 0;
    while (start <= text.size() && !text.empty()) {
        std::size_t end = text.find(',', start);
        if (end == std::string::npos) end = text.size();
        if (end > start) ids.push_back(text.substr(start, end - start));
        start = end + 1;
    }
    return ids;
}

// Once a report is sent: glibc keeps what it freed in its arenas (a worker's arena gives
// memory back only from its top), so the pages the report's pieces passed through stayed
// resident after the load; malloc_trim gives back every free page (bench/README.md, "Big
// rosters").
void release_after_report(bool) { malloc_trim(0); }

// Answers 200 with a report written piece by piece as it is read from the store (chunked
// transfer coding), on the worker thread serving the connection once the handler has
// returned: the badge sheet of 10,000 attendees is 66 MB, and was held whole in memory,
// with its compressed copy. Errors must be found before this: the status line is sent.
void stream_report(httplib::Response& res, const char* content_type,
                   std::function<bool(const ReportSink&)> write)
{
    res.status = 200;
    res.set_chunked_content_provider(
        content_type,
        [write = std::move(write)](std::size_t, httplib::DataSink& sink) {
            try {
                const bool complete = write([&sink](std::string_view piece) {
                    return sink.write(piece.data(), piece.size());
                });
                if (complete) sink.done();
                return complete;  // false: the client went away, the connection ends
            } catch (const std::exception& e) {
                // A worker thread must not see an exception from httplib's writer; the
                // truncated answer ends without its last chunk, so the client sees it fail.
                CK_ERROR("http", "a streamed report failed: " << e.what());
                return false;
            }
        },
        release_after_report);
}

}  // namespace

void handle_badges(const ApiRequest& request, httplib::Response& res)
{
    const Device& device = request.device;
    std::vector<std::string> ids = split_ids(request.http.get_param_value("ids"));
    if (Status s = check_badge_sheet(device, ids); !s) {
        write_error(res, s);
        return;
    }
    // The sheet is self-contained: inline styles and SVG, nothing fetched.
    res.set_header("Content-Security-Policy",
                   "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
                   "frame-ancestors 'none'");
    stream_report(res, "text/html; charset=utf-8",
                  [&device, ids = std::move(ids)](const ReportSink& sink) {
                      return write_badge_sheet(device, ids, sink);
                  });
}

void handle_export(const ApiRequest& request, httplib::Response& res)
{
    Device& device = request.device;
    std::string format = request.http.get_param_value("format");
    std::string base = device.config.module.id() + "-attendance";
    if (format == "csv") {
        std::string sep = request.http.get_param_value("sep");
        char separator = (sep == "semicolon" || sep == ";") ? ';' : ',';
        res.set_header("Content-Disposition", "attachment; filename=\"" + base + ".csv\"");
        stream_report(res, "text/csv; charset=utf-8", [&device, separator](const ReportSink& sink) {
            return write_export_csv(device, separator, sink);
        });
        return;
    }
    if (format == "json") {
        res.set_header("Content-Disposition", "attachment; filename=\"" + base + ".json\"");
        stream_report(res, "application/json", [&device](const ReportSink& sink) {
            return write_export_json(device, sink);
        });
        return;
    }
    write_error(res, Status::error(err::malformed_request, "Unknown export format.",
                                   "Use format=csv or format=json."));
}

void handle_completions(const ApiRequest& request, httplib::Response& res)
{
    write_json(res, 200, completions_json(request.device));
}

void handle_close_module(const ApiRequest& request, httplib::Response& res)
{
    Device& device = request.device;
    if (device.store->module_closed()) {
        write_error(res, Status::error(err::module_closed, "The module is already closed.",
                                       "Its completion records are under Completion."));
        return;
    }
    auto written = device.store->close_module(device.config.module, device.actor(request.staff));
    if (!written) {
        write_error(res, written.status());
        return;
    }
    write_json(res, 200, {{"closed", true}, {"records_written", *written}});
}

void handle_audit(const ApiRequest& request, httplib::Response& res)
{
    std::size_t limit = 100;
    std::uint64_t before = 0;
    try {
        if (request.http.has_param("limit"))
            limit = std::min<std::size_t>(1000, std::stoul(request.http.get_param_value("limit")));
        if (request.http.has_param("before"))
            before = std::stoull(request.http.get_param_value("before"));
    } catch (const std::exception&) {
        write_error(res, Status::error(err::malformed_request, "limit and before must be numbers.",
                                       "For example ?limit=100&before=250."));
        return;
    }
    nlohmann::json entries = nlohmann::json::array();
    for (auto& e : request.device.store->audit_entries(limit, before)) {
        entries.push_back(std::move(e.body));
    }
    write_json(res, 200, {{"entries", entries}});
}

}  // namespace ck

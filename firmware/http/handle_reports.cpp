// Staff routes that hand data out: badges, exports, completion records, the audit log,
// and the module close.
#include "app/device.hpp"
#include "app/reports.hpp"
#include "http/error.hpp"
#include "http/routes.hpp"

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

}  // namespace

void handle_badges(const ApiRequest& request, httplib::Response& res)
{
    auto sheet = render_badge_sheet(request.device, split_ids(request.http.get_param_value("ids")));
    if (!sheet) {
        write_error(res, sheet.status());
        return;
    }
    res.status = 200;
    // The sheet is self-contained: inline styles and SVG, nothing fetched.
    res.set_header("Content-Security-Policy",
                   "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
                   "frame-ancestors 'none'");
    res.set_content(std::move(*sheet), "text/html; charset=utf-8");
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
        res.set_content(export_csv(device, separator), "text/csv; charset=utf-8");
        res.status = 200;
        return;
    }
    if (format == "json") {
        res.set_header("Content-Disposition", "attachment; filename=\"" + base + ".json\"");
        write_json(res, 200, export_json(device));
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

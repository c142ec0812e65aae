// POST /api/v1/roster: roster import by upload, CSV or JSON, with the per-row report.
#include "app/device.hpp"
#include "core/roster.hpp"
#include "http/routes.hpp"
#include "net/error.hpp"

namespace ck {

void handle_import_roster(const ApiRequest& request, httplib::Response& res)
{
    Device& device = request.device;
    std::string type = request.http.get_header_value("Content-Type");
    bool json = type.rfind("application/json", 0) == 0;
    bool csv = type.rfind("text/csv", 0) == 0 || type.rfind("text/plain", 0) == 0;
    if (!json && !csv) {
        write_error(res, Status::error(err::unsupported_media_type,
                                       "Send the roster as text/csv or application/json.",
                                       "Set the Content-Type header to match the file."));
        return;
    }
    RosterImport import = json ? parse_roster_json(request.body) : parse_roster_csv(request.body);
    nlohmann::json report = roster_import_report_to_json(import);
    if (!import.file_error.empty()) {
        write_error(res,
                    Status::error(err::malformed_request, import.file_error,
                                  "Fix the file and upload it again."),
                    report);
        return;
    }
    auto stats = device.store->import_roster(import.accepted);
    if (!stats) {
        write_error(res, stats.status());
        return;
    }
    report["created"] = stats->created;
    report["updated"] = stats->updated;
    report["unchanged"] = stats->unchanged;
    device.store->audit(device.actor(request.staff), "roster_import",
                        {{"rows_total", import.rows_total},
                         {"accepted", import.accepted.size()},
                         {"rejected", import.rejected.size()},
                         {"created", stats->created},
                         {"updated", stats->updated}});
    write_json(res, 200, report);
}

}  // namespace ck

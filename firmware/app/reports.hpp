// What the device hands to people: the printable badge sheet, attendance exports and
// completion records. Shared by the staff API and the command line.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.hpp"

namespace ck {

class Device;

// Where a streamed report goes, piece by piece (about kReportPieceBytes each, in order).
// Returning false stops the report (the client went away). The reports read the store in
// pieces of a few hundred attendees, each in its own short read transaction, so their
// memory does not grow with the roster (issue 14, item 14: the sheet of 10,000 badges is
// 66 MB).
using ReportSink = std::function<bool(std::string_view piece)>;
inline constexpr std::size_t kReportPieceBytes = 32 * 1024;

// A4 HTML, 8 badges per page (name, country, module, QR code as inline SVG, cut marks).
// `ids` empty: every rostered attendee. Unknown ids give not_found, as does a device
// without a signing key: check_badge_sheet() says so before anything is written.
Status check_badge_sheet(const Device& device, const std::vector<std::string>& ids);
// Writes the sheet checked above; false when `sink` stopped it.
bool write_badge_sheet(const Device& device, const std::vector<std::string>& ids,
                       const ReportSink& sink);
// Both, into one string (for small sheets and tests).
Result<std::string> render_badge_sheet(const Device& device, const std::vector<std::string>& ids);

// One row per attendee and session: check-in time, source, late flag, voids.
// UTF-8 with BOM (so Excel reads accents right), separated by `separator` (',' or ';').
bool write_export_csv(const Device& device, char separator, const ReportSink& sink);
std::string export_csv(const Device& device, char separator);
// The same data as JSON, with each attendee's completion record and CME credits: the
// bytes of export_json(device).dump() (compact, keys in order), written piece by piece.
bool write_export_json(const Device& device, const ReportSink& sink);
nlohmann::json export_json(const Device& device);

// Completion records: the stored ones once the module is closed, else a live preview.
nlohmann::json completions_json(const Device& device);

}  // namespace ck

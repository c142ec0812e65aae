// What the device hands to people: the printable badge sheet, attendance exports and
// completion records. Shared by the staff API and the command line.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/status.hpp"

namespace ck {

class Device;

// A4 HTML, 8 badges per page (name, country, module, QR code as inline SVG, cut marks).
// `ids` empty: every rostered attendee. Unknown ids give not_found.
Result<std::string> render_badge_sheet(const Device& device, const std::vector<std::string>& ids);

// One row per attendee and session: check-in time, source, late flag, voids.
// UTF-8 with BOM (so Excel reads accents right), separated by `separator` (',' or ';').
std::string export_csv(const Device& device, char separator);
// The same data as JSON, with each attendee's completion record and CME credits.
nlohmann::json export_json(const Device& device);

// Completion records: the stored ones once the module is closed, else a live preview.
nlohmann::json completions_json(const Device& device);

}  // namespace ck

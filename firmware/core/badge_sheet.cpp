#include "core/badge_sheet.hpp"

#include "core/qr.hpp"

namespace ck {
namespace {

std::string html_escape(std::string_view text)
{
    std::string out;
    out.reserve(text.size());
    for (char c : text) {
        switch (c) {
            case '&':
                out += "&amp;";
                break;
            case '<':
                out += "&lt;";
                break;
            case '>':
                out += "&gt;";
                break;
            case '"':
                out += "&quot;";
                break;
            case '\'':
                out += "&#39;";
                break;
            default:
                out.push_back(c);
        }
    }
    return out;
}

}  // namespace

std::string badge_sheet_head(const ModuleEdition& module)
{
    return std::string(R"(<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Badges )") +
           html_escape(module.id()) + R"(</title>
<style>
@page { size: A4; margin: 0; }
* { box-sizing: border-box; }
body { margin: 0; font-family: "DejaVu Sans", Arial, sans-serif; color: #000; }
.page { width: 210mm; height: 297mm; display: grid; grid-template-columns: 105mm 105mm;
        grid-template-rows: repeat(4, 74.25mm); page-break-after: always; break-after: page; }
.page:last-child { page-break-after: auto; break-after: auto; }
.badge { position: relative; padding: 6mm 6mm 5mm 7mm; display: grid;
         grid-template-columns: 1fr 40mm; gap: 3mm; overflow: hidden; }
.badge .given { font-size: 17pt; font-weight: bold; line-height: 1.1; overflow-wrap: anywhere; }
.badge .family { font-size: 13pt; line-height: 1.15; overflow-wrap: anywhere; }
.badge .country { margin-top: 2mm; font-size: 10pt; }
.badge .module { position: absolute; left: 7mm; bottom: 5mm; right: 50mm; font-size: 7.5pt; color: #333; }
.badge .qr svg { width: 40mm; height: 40mm; display: block; }
.badge .id { font-size: 7pt; text-align: center; margin-top: 1mm; }
.cut { position: absolute; width: 4mm; height: 4mm; border-color: #999; border-style: solid; border-width: 0; }
.cut.tl { top: 0; left: 0; border-top-width: 0.2mm; border-left-width: 0.2mm; }
.cut.tr { top: 0; right: 0; border-top-width: 0.2mm; border-right-width: 0.2mm; }
.cut.bl { bottom: 0; left: 0; border-bottom-width: 0.2mm; border-left-width: 0.2mm; }
.cut.br { bottom: 0; right: 0; border-bottom-width: 0.2mm; border-right-width: 0.2mm; }
@media screen { body { background: #ccc; } .page { background: #fff; margin: 10mm auto; } }
</style></head><body>
)";
}

std::string badge_html(const ModuleEdition& module, const Attendee& a, const std::string& qr_text,
                       std::size_t index)
{
    const std::string module_line =
        html_escape("ECNR module " + std::to_string(module.number) + " · " + module.title + " · " +
                    module.venue + " · " + module.cycle);
    std::string out;
    if (index % kBadgesPerPage == 0) out += "<div class=\"page\">\n";
    QrOptions qr;
    out += "<div class=\"badge\" data-attendee-id=\"" + html_escape(a.id) +
           "\"><span class=\"cut tl\"></span><span class=\"cut tr\"></span>"
           "<span class=\"cut bl\"></span><span class=\"cut br\"></span><div>"
           "<div class=\"given\">" +
           html_escape(a.given_name) + "</div><div class=\"family\">" + html_escape(a.family_name) +
           "</div><div class=\"country\">" + html_escape(a.country) +
           "</div></div><div class=\"qr\">" + qr_svg(qr_text, qr, false) + "<div class=\"id\">" +
           html_escape(a.id) + "</div></div><div class=\"module\">" + module_line +
           "</div></div>\n";
    if (index % kBadgesPerPage == kBadgesPerPage - 1) out += "</div>\n";
    return out;
}

std::string badge_sheet_tail(std::size_t count)
{
    return std::string(count % kBadgesPerPage != 0 ? "</div>\n" : "") + "</body></html>\n";
}

}  // namespace ck

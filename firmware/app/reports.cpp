#include "app/reports.hpp"

#include <set>

#include "app/device.hpp"
#include "core/attendance.hpp"
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

std::string csv_field(std::string_view text, char separator)
{
    bool quote = text.find_first_of(std::string{separator, '"', '\n', '\r'}) != std::string::npos;
    // A leading = + - @ would be a formula in a spreadsheet: quote and prefix it.
    bool formula =
        !text.empty() && std::string_view("=+-@").find(text.front()) != std::string::npos;
    if (!quote && !formula) return std::string(text);
    std::string out = "\"";
    if (formula) out += "'";
    for (char c : text) {
        if (c == '"') out += '"';
        out += c;
    }
    return out + "\"";
}

struct AttendeeRecord {
    Attendee attendee;
    bool in_roster = true;
    std::vector<CheckinRecord> checkins;
};

// Everyone rostered, plus anyone who checked in without being on the roster.
std::vector<AttendeeRecord> everyone(const Device& device)
{
    std::vector<AttendeeRecord> out;
    std::set<std::string> seen;
    for (auto& a : device.store->attendees()) {
        seen.insert(a.id);
        auto checkins = device.store->checkins_of_attendee(a.id);
        out.push_back({std::move(a), true, std::move(checkins)});
    }
    for (const auto& s : device.schedule->sessions()) {
        for (auto& c : device.store->checkins_of_session(s.spec->id)) {
            if (seen.insert(c.attendee_id).second) {
                Attendee a;
                a.id = c.attendee_id;
                out.push_back({a, false, device.store->checkins_of_attendee(a.id)});
            }
        }
    }
    return out;
}

nlohmann::json completion_of(const Device& device, const AttendeeRecord& r)
{
    return completion_record(device.config.module, r.attendee.id, attended_session_ids(r.checkins),
                             r.in_roster);
}

}  // namespace

Result<std::string> render_badge_sheet(const Device& device, const std::vector<std::string>& ids)
{
    std::vector<Attendee> people;
    if (ids.empty()) {
        people = device.store->attendees();
    } else {
        for (const auto& id : ids) {
            auto a = device.store->attendee(id);
            if (!a) {
                return Status::error(err::not_found,
                                     "There is no attendee " + id + " in the roster.",
                                     "Check the ids, or import the roster first.");
            }
            people.push_back(std::move(*a));
        }
    }
    if (!device.signing_key) {
        return Status::error(err::not_found, "This device has no signing key to make badges with.",
                             "Badges come from the registry for this device.");
    }
    const ModuleEdition& module = device.config.module;
    std::string html = R"(<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Badges )" +
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
    std::string module_line = "ECNR module " + std::to_string(module.number) + " · " +
                              module.title + " · " + module.venue + " · " + module.cycle;
    for (std::size_t i = 0; i < people.size(); ++i) {
        if (i % 8 == 0) html += "<div class=\"page\">\n";
        const Attendee& a = people[i];
        QrOptions qr;
        html += "<div class=\"badge\" data-attendee-id=\"" + html_escape(a.id) +
                "\"><span class=\"cut tl\"></span><span class=\"cut tr\"></span>"
                "<span class=\"cut bl\"></span><span class=\"cut br\"></span><div>"
                "<div class=\"given\">" +
                html_escape(a.given_name) + "</div><div class=\"family\">" +
                html_escape(a.family_name) + "</div><div class=\"country\">" +
                html_escape(a.country) + "</div></div><div class=\"qr\">" +
                qr_svg(device.credential_for(a.id), qr, false) + "<div class=\"id\">" +
                html_escape(a.id) + "</div></div><div class=\"module\">" +
                html_escape(module_line) + "</div></div>\n";
        if (i % 8 == 7 || i + 1 == people.size()) html += "</div>\n";
    }
    html += "</body></html>\n";
    return html;
}

std::string export_csv(const Device& device, char sep)
{
    const date::time_zone* zone = device.config.module.zone;
    std::string out = "\xEF\xBB\xBF";  // BOM
    auto row = [&](std::initializer_list<std::string> fields) {
        bool first = true;
        for (const auto& f : fields) {
            if (!first) out += sep;
            first = false;
            out += csv_field(f, sep);
        }
        out += "\r\n";
    };
    row({"attendee_id", "family_name", "given_name", "country", "email", "day", "session_id",
         "session_label", "present", "checkin_time", "source", "late", "staff", "voids",
         "not_in_roster"});
    for (const auto& r : everyone(device)) {
        for (const auto& s : device.schedule->sessions()) {
            const CheckinRecord* valid = nullptr;
            std::string voids;
            for (const auto& c : r.checkins) {
                if (c.session_id != s.spec->id) continue;
                if (!c.voided) {
                    valid = &c;
                } else {
                    if (!voids.empty()) voids += "; ";
                    voids += format_rfc3339(c.at, zone) + " voided: " + c.void_reason;
                }
            }
            const auto& day = device.config.module.days[static_cast<std::size_t>(s.day_index)];
            row({r.attendee.id, r.attendee.family_name, r.attendee.given_name, r.attendee.country,
                 r.attendee.email, day.date_text(), s.spec->id, s.spec->label, valid ? "yes" : "no",
                 valid ? valid->at_text : "", valid ? valid->source : "",
                 valid && valid->late ? "yes" : "no", valid ? valid->staff : "", voids,
                 r.in_roster ? "no" : "yes"});
        }
    }
    return out;
}

nlohmann::json export_json(const Device& device)
{
    const date::time_zone* zone = device.config.module.zone;
    nlohmann::json attendees = nlohmann::json::array();
    for (const auto& r : everyone(device)) {
        nlohmann::json checkins = nlohmann::json::array();
        for (const auto& c : r.checkins) checkins.push_back(checkin_to_json(c));
        nlohmann::json item =
            r.in_roster ? attendee_to_json(r.attendee) : nlohmann::json{{"id", r.attendee.id}};
        item["not_in_roster"] = !r.in_roster;
        item["checkins"] = std::move(checkins);
        item["completion"] = completion_of(device, r);
        attendees.push_back(std::move(item));
    }
    return {{"module", module_to_json(device.config.module)},
            {"exported_at", format_rfc3339(device.clock.now(), zone)},
            {"attendees", attendees}};
}

nlohmann::json completions_json(const Device& device)
{
    auto closed_at = device.store->meta("module_closed_at");
    nlohmann::json records = nlohmann::json::array();
    if (closed_at) {
        for (auto& record : device.store->completions()) records.push_back(std::move(record));
    } else {
        for (const auto& r : everyone(device)) records.push_back(completion_of(device, r));
    }
    return {{"closed", closed_at.has_value()},
            {"closed_at", closed_at ? nlohmann::json(*closed_at) : nlohmann::json(nullptr)},
            {"records", records}};
}

}  // namespace ck

#include "app/reports.hpp"

#include <optional>
#include <set>
#include <string_view>

#include "app/device.hpp"
#include "core/attendance.hpp"
#include "core/badge_sheet.hpp"
#include "core/csv.hpp"

namespace ck {
namespace {

struct AttendeeRecord {
    Attendee attendee;
    bool in_roster = true;
    std::vector<CheckinRecord> checkins;
};

constexpr std::size_t kPieceAttendees = 256;

// Everyone rostered (in id order), then anyone who checked in without being in the
// roster (by session, in schedule order, then id), one record at a time. The store is
// read kPieceAttendees at a time; only the ids of attendees not in the roster (a few, on a
// real device) are remembered from one piece to the next.
class Everyone {
public:
    explicit Everyone(const Device& device) : device_(device) {}

    std::optional<AttendeeRecord> next()
    {
        for (;;) {
            if (index_ < roster_.size()) {
                Attendee& a = roster_[index_++];
                auto checkins = device_.store->checkins_of_attendee(a.id);
                return AttendeeRecord{std::move(a), true, std::move(checkins)};
            }
            if (index_ < unrostered_.size() + roster_.size()) {
                std::string& id = unrostered_[index_++ - roster_.size()];
                if (!seen_.insert(id).second) continue;
                Attendee a;
                a.id = id;
                auto checkins = device_.store->checkins_of_attendee(a.id);
                return AttendeeRecord{std::move(a), false, std::move(checkins)};
            }
            if (!refill()) return std::nullopt;
        }
    }

private:
    // The next piece; false when there is none.
    bool refill()
    {
        index_ = 0;
        unrostered_.clear();
        if (in_roster_) {
            roster_ = device_.store->attendees_after(after_, kPieceAttendees);
            if (!roster_.empty()) {
                after_ = roster_.back().id;
                if (roster_.size() == kPieceAttendees) return true;
            }
            in_roster_ = false;  // the last piece of the roster
            after_.clear();
            if (!roster_.empty()) return true;
        }
        roster_.clear();
        const auto& sessions = device_.schedule->sessions();
        while (session_ < sessions.size()) {
            unrostered_ = device_.store->unrostered_attendees_in_session(
                sessions[session_].spec->id, after_, kPieceAttendees);
            if (unrostered_.size() == kPieceAttendees) {
                after_ = unrostered_.back();
            } else {
                ++session_;
                after_.clear();
            }
            if (!unrostered_.empty()) return true;
        }
        return false;
    }

    const Device& device_;
    bool in_roster_ = true;
    std::vector<Attendee> roster_;
    std::vector<std::string> unrostered_;
    std::size_t index_ = 0;
    std::string after_;  // the last id of the piece before
    std::size_t session_ = 0;
    std::set<std::string> seen_;  // attendees not in the roster, once each
};

// Collects what a report writes and hands it to the sink in pieces of about
// kReportPieceBytes. Once the sink has refused a piece, everything else is dropped.
class PieceWriter {
public:
    explicit PieceWriter(const ReportSink& sink) : sink_(sink)
    {
        buffer_.reserve(kReportPieceBytes * 2);
    }
    PieceWriter& operator<<(std::string_view text)
    {
        buffer_ += text;
        if (buffer_.size() >= kReportPieceBytes) flush();
        return *this;
    }
    bool ok() const { return ok_; }
    // Sends what is left; true unless the sink stopped the report.
    bool finish()
    {
        if (!buffer_.empty()) flush();
        return ok_;
    }

private:
    void flush()
    {
        if (ok_) ok_ = sink_(buffer_);
        buffer_.clear();
    }
    const ReportSink& sink_;
    std::string buffer_;
    bool ok_ = true;
};

// Before the module closes, a stay without exit counts until now.
nlohmann::json completion_of(const Device& device, const AttendeeRecord& r)
{
    const ModuleEdition& module = device.config.module;
    return completion_record(module, r.attendee.id,
                             attendance_of(module, r.checkins, device.clock.now()), r.in_roster);
}

}  // namespace

Status check_badge_sheet(const Device& device, const std::vector<std::string>& ids)
{
    for (const auto& id : ids) {
        if (!device.store->attendee(id)) {
            return Status::error(err::not_found, "There is no attendee " + id + " in the roster.",
                                 "Check the ids, or import the roster first.");
        }
    }
    if (!device.signing_key) {
        return Status::error(err::not_found, "This device has no signing key to make badges with.",
                             "Badges come from the registry for this device.");
    }
    return Status::ok();
}

bool write_badge_sheet(const Device& device, const std::vector<std::string>& ids,
                       const ReportSink& sink)
{
    const ModuleEdition& module = device.config.module;
    PieceWriter out(sink);
    out << badge_sheet_head(module);
    std::size_t i = 0;
    auto badge = [&](const Attendee& a) {
        out << badge_html(module, a, device.credential_for(a.id), i++);
    };
    if (ids.empty()) {
        std::string after;
        for (;;) {
            std::vector<Attendee> piece = device.store->attendees_after(after, kPieceAttendees);
            for (const Attendee& a : piece) {
                badge(a);
                if (!out.ok()) return false;
            }
            if (piece.size() < kPieceAttendees) break;
            after = piece.back().id;
        }
    } else {
        for (const auto& id : ids) {
            if (auto a = device.store->attendee(id)) badge(*a);
            if (!out.ok()) return false;
        }
    }
    out << badge_sheet_tail(i);
    return out.finish();
}

Result<std::string> render_badge_sheet(const Device& device, const std::vector<std::string>& ids)
{
    if (Status s = check_badge_sheet(device, ids); !s) return s;
    std::string html;
    write_badge_sheet(device, ids, [&](std::string_view piece) {
        html += piece;
        return true;
    });
    return html;
}

bool write_export_csv(const Device& device, char sep, const ReportSink& sink)
{
    const date::time_zone* zone = device.config.module.zone;
    PieceWriter out(sink);
    out << kUtf8Bom;
    auto row = [&](const std::vector<std::string>& fields) {
        bool first = true;
        for (const auto& f : fields) {
            if (!first) out << std::string_view(&sep, 1);
            first = false;
            out << csv_field(f, sep);
        }
        out << "\r\n";
    };
    const ModuleEdition& module = device.config.module;
    std::vector<std::string> header = {
        "attendee_id", "family_name", "given_name",    "country", "email",
        "day",         "session_id",  "session_label", "present", "checkin_time",
        "source",      "late",        "staff",         "voids",   "not_in_roster"};
    if (module.presence()) {
        // Presence mode: "present" is attended by the minutes; the stays are listed.
        for (const char* column : {"minutes_present", "credits", "stays", "no_exit"}) {
            header.emplace_back(column);
        }
    }
    row(header);
    const Instant now = device.clock.now();
    Everyone everyone(device);
    while (auto r = everyone.next()) {
        const EventAttendance attendance = attendance_of(module, r->checkins, now);
        for (const auto& s : device.schedule->sessions()) {
            const CheckinRecord* valid = nullptr;
            std::string voids;
            for (const auto& c : r->checkins) {
                if (c.session_id != s.spec->id) continue;
                if (!c.voided) {
                    if (!c.exit() && valid == nullptr) valid = &c;  // the first entry
                } else {
                    if (!voids.empty()) voids += "; ";
                    voids += format_rfc3339(c.at, zone) + " voided: " + c.void_reason;
                }
            }
            const bool present = module.presence()
                                     ? attendance.attended_session_ids.count(s.spec->id) != 0
                                     : valid != nullptr;
            const auto& day = module.days[static_cast<std::size_t>(s.day_index)];
            std::vector<std::string> fields = {r->attendee.id,
                                               r->attendee.family_name,
                                               r->attendee.given_name,
                                               r->attendee.country,
                                               r->attendee.email,
                                               day.date_text(),
                                               s.spec->id,
                                               s.spec->label,
                                               present ? "yes" : "no",
                                               valid ? valid->at_text : "",
                                               valid ? valid->source : "",
                                               valid && valid->late ? "yes" : "no",
                                               valid ? valid->staff : "",
                                               voids,
                                               r->in_roster ? "no" : "yes"};
            if (module.presence()) {
                auto p = attendance.presence.find(s.spec->id);
                std::string stays;
                if (p != attendance.presence.end()) {
                    for (const PresenceInterval& i : p->second.intervals) {
                        if (!stays.empty()) stays += "; ";
                        stays += format_local_hhmm(i.entered, zone) + "-" +
                                 (i.left ? format_local_hhmm(*i.left, zone) : "(no exit)");
                    }
                }
                const bool found = p != attendance.presence.end();
                fields.push_back(std::to_string(found ? p->second.minutes_present : 0));
                fields.push_back(csv_number(found ? p->second.credits : 0, sep));
                fields.push_back(stays);
                fields.push_back(found && p->second.no_exit ? "yes" : "no");
            }
            row(fields);
        }
        if (!out.ok()) return false;
    }
    return out.finish();
}

std::string export_csv(const Device& device, char separator)
{
    std::string csv;
    write_export_csv(device, separator, [&](std::string_view piece) {
        csv += piece;
        return true;
    });
    return csv;
}

namespace {

nlohmann::json export_item(const Device& device, const AttendeeRecord& r)
{
    nlohmann::json checkins = nlohmann::json::array();
    for (const auto& c : r.checkins) checkins.push_back(checkin_to_json(c));
    nlohmann::json item =
        r.in_roster ? attendee_to_json(r.attendee) : nlohmann::json{{"id", r.attendee.id}};
    item["not_in_roster"] = !r.in_roster;
    item["checkins"] = std::move(checkins);
    item["completion"] = completion_of(device, r);
    const ModuleEdition& module = device.config.module;
    if (module.presence()) {
        nlohmann::json presence = nlohmann::json::object();
        for (const auto& [session_id, p] :
             attendance_of(module, r.checkins, device.clock.now()).presence) {
            presence[session_id] = presence_to_json(p, module.zone);
        }
        item["presence"] = std::move(presence);
    }
    return item;
}

std::string compact(const nlohmann::json& json)
{
    return json.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

bool write_export_json(const Device& device, const ReportSink& sink)
{
    // The keys of export_json() in the order dump() writes them: attendees, exported_at,
    // module. The time is taken first, as export_json() does.
    const std::string exported_at = format_rfc3339(device.clock.now(), device.config.module.zone);
    PieceWriter out(sink);
    out << "{\"attendees\":[";
    Everyone everyone(device);
    bool first = true;
    while (auto r = everyone.next()) {
        if (!first) out << ",";
        first = false;
        out << compact(export_item(device, *r));
        if (!out.ok()) return false;
    }
    out << "],\"exported_at\":" << compact(exported_at)
        << ",\"module\":" << compact(module_to_json(device.config.module)) << "}";
    return out.finish();
}

nlohmann::json export_json(const Device& device)
{
    const date::time_zone* zone = device.config.module.zone;
    const std::string exported_at = format_rfc3339(device.clock.now(), zone);
    nlohmann::json attendees = nlohmann::json::array();
    Everyone everyone(device);
    while (auto r = everyone.next()) attendees.push_back(export_item(device, *r));
    return {{"module", module_to_json(device.config.module)},
            {"exported_at", exported_at},
            {"attendees", attendees}};
}

nlohmann::json completions_json(const Device& device)
{
    auto closed_at = device.store->meta("module_closed_at");
    nlohmann::json records = nlohmann::json::array();
    if (closed_at) {
        for (auto& record : device.store->completions()) records.push_back(std::move(record));
    } else {
        Everyone everyone(device);
        while (auto r = everyone.next()) records.push_back(completion_of(device, *r));
    }
    return {{"closed", closed_at.has_value()},
            {"closed_at", closed_at ? nlohmann::json(*closed_at) : nlohmann::json(nullptr)},
            {"records", records}};
}

}  // namespace ck

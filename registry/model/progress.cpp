#include "model/progress.hpp"

#include <algorithm>
#include <map>

#include "core/csv.hpp"

namespace ck::registry {

namespace {

Instant from_epoch(const std::string& seconds)
{
    return Instant{std::chrono::seconds(std::stoll(seconds))};
}

nlohmann::json time_or_null(const std::optional<Instant>& t)
{
    return t ? nlohmann::json(format_rfc3339_utc(*t)) : nlohmann::json(nullptr);
}

// The editions' definitions, parsed once per call.
class Editions {
public:
    Editions(Database& db, const ZoneLookup& zones) : db_(db), zones_(zones) {}

    Result<const ModuleEdition*> get(const std::string& module_id)
    {
        if (auto it = parsed_.find(module_id); it != parsed_.end()) return &it->second;
        auto rows = db_.exec("SELECT config::text FROM module_editions WHERE id = $1", {module_id});
        if (!rows) return rows.status();
        if (rows->count() == 0) {
            return Status::error(err::unknown_module, "no module edition " + module_id);
        }
        auto module = parse_module(nlohmann::json::parse(rows->text(0, 0)), zones_);
        if (!module) return module.status();
        return &parsed_.emplace(module_id, std::move(*module)).first->second;
    }

private:
    Database& db_;
    const ZoneLookup& zones_;
    std::map<std::string, ModuleEdition> parsed_;
};

struct EditionEvents {
    std::vector<AttendanceEvent> events;
    int clock_untrusted = 0;
    std::map<std::string, nlohmann::json> latest_record;  // per device, by seq
};

// The attendee's events, by edition.
Result<std::map<std::string, EditionEvents>> events_of(Database& db, const std::string& attendee_id)
{
    auto rows = db.exec(
        "SELECT module_id, device_id, type, id::text, extract(epoch FROM at)::bigint, "
        "body->>'session_id', body->>'checkin_id', body->>'clock_untrusted', "
        "CASE WHEN type = 'completion' THEN body::text END, body->>'source' "
        "FROM events WHERE attendee_id = $1 ORDER BY module_id, device_id, seq",
        {attendee_id});
    if (!rows) return rows.status();
    std::map<std::string, EditionEvents> out;
    for (int r = 0; r < rows->count(); ++r) {
        EditionEvents& edition = out[rows->text(r, 0)];
        const std::string type = rows->text(r, 2);
        if (type == "checkin" || type == "checkout" || type == "void") {
            AttendanceEvent e;
            e.kind = type == "checkin"    ? AttendanceEvent::Kind::checkin
                     : type == "checkout" ? AttendanceEvent::Kind::checkout
                                          : AttendanceEvent::Kind::voiding;
            e.manual = rows->text(r, 9) == "manual";
            e.id = rows->text(r, 3);
            e.at = from_epoch(rows->text(r, 4));
            e.session_id = rows->text(r, 5);
            std::string voided = rows->text(r, 6);
            std::transform(voided.begin(), voided.end(), voided.begin(),
                           [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
            e.checkin_id = voided;
            if (type == "checkin" && rows->text(r, 7) == "true") ++edition.clock_untrusted;
            edition.events.push_back(std::move(e));
        } else if (type == "completion") {
            edition.latest_record[rows->text(r, 1)] = nlohmann::json::parse(rows->text(r, 8));
        }
    }
    return out;
}

DeviceRecord compare(const std::string& device_id, const nlohmann::json& record,
                     const EventAttendance& registry)
{
    DeviceRecord d;
    d.device_id = device_id;
    d.attendance_complete = record.value("attendance_complete", false);
    d.sessions_attended = record.value("sessions_attended", 0);
    d.cme_credits = record.value("cme_credits", 0.0);
    const auto ids = record.value("attended_session_ids", std::vector<std::string>{});
    const bool subset = std::all_of(ids.begin(), ids.end(), [&](const std::string& id) {
        return registry.attended_session_ids.count(id) != 0;
    });
    d.agrees = subset && (!d.attendance_complete || registry.result.attendance_complete) &&
               d.cme_credits <= registry.result.cme_credits;
    return d;
}

// Whether `a` counts for its module before `b`.
bool counts_before(const EditionProgress& a, const EditionProgress& b)
{
    const auto& ca = a.attendance.completed_at;
    const auto& cb = b.attendance.completed_at;
    if (ca && cb) return *ca < *cb;
    if (ca || cb) return ca.has_value();
    if (a.attendance.result.sessions_attended != b.attendance.result.sessions_attended) {
        return a.attendance.result.sessions_attended > b.attendance.result.sessions_attended;
    }
    return a.module_id > b.module_id;  // the later cycle: the one still to come
}

}  // namespace

bool EditionProgress::disagreement() const
{
    return std::any_of(device_records.begin(), device_records.end(),
                       [](const DeviceRecord& d) { return !d.agrees; });
}

std::string AttendeeProgress::name() const
{
    if (given_name.empty()) return family_name;
    return family_name.empty() ? given_name : given_name + " " + family_name;
}

double AttendeeProgress::cme_credits_total() const
{
    double total = 0;
    for (const auto& index : modules) {
        if (index) total += editions[*index].attendance.result.cme_credits;
    }
    return total;
}

Result<AttendeeProgress> attendee_progress(Database& db, const std::string& attendee_id,
                                           const ZoneLookup& zones)
{
    AttendeeProgress progress;
    progress.attendee_id = attendee_id;
    auto person =
        db.exec("SELECT family_name, given_name FROM attendees WHERE id = $1", {attendee_id});
    if (!person) return person.status();
    if (person->count() > 0) {
        progress.family_name = person->text(0, 0);
        progress.given_name = person->text(0, 1);
    }
    auto rostered =
        db.exec("SELECT module_id FROM roster_entries WHERE attendee_id = $1", {attendee_id});
    if (!rostered) return rostered.status();
    auto events = events_of(db, attendee_id);
    if (!events) return events.status();
    std::set<std::string> in_roster;
    for (int r = 0; r < rostered->count(); ++r) in_roster.insert(rostered->text(r, 0));
    std::set<std::string> module_ids = in_roster;
    for (const auto& [module_id, _] : *events) module_ids.insert(module_id);
    if (module_ids.empty() && person->count() == 0) {
        return Status::error(err::not_found, "The registry knows no attendee " + attendee_id + ".",
                             "Check the registration number.");
    }
    Editions editions(db, zones);
    for (const std::string& module_id : module_ids) {
        auto module = editions.get(module_id);
        if (!module) return module.status();
        EditionProgress e;
        e.module_id = module_id;
        e.number = (*module)->number;
        e.cycle = (*module)->cycle;
        e.venue = (*module)->venue;
        if (!(*module)->days.empty()) {
            e.first_day = (*module)->days.front().date_text();
            e.last_day = (*module)->days.back().date_text();
        }
        e.in_roster = in_roster.count(module_id) != 0;
        if (auto it = events->find(module_id); it != events->end()) {
            e.attendance = attendance_from_events(**module, it->second.events);
            e.clock_untrusted = it->second.clock_untrusted;
            for (const auto& [device_id, record] : it->second.latest_record) {
                e.device_records.push_back(compare(device_id, record, e.attendance));
            }
        } else {
            e.attendance = attendance_from_events(**module, {});
        }
        progress.editions.push_back(std::move(e));
    }
    for (std::size_t i = 0; i < progress.editions.size(); ++i) {
        const int n = progress.editions[i].number;
        if (n < 1 || n > 4) continue;
        auto& slot = progress.modules[static_cast<std::size_t>(n - 1)];
        if (!slot || counts_before(progress.editions[i], progress.editions[*slot])) slot = i;
    }
    progress.cycle_complete =
        std::all_of(progress.modules.begin(), progress.modules.end(),
                    [&](const std::optional<std::size_t>& slot) {
                        return slot && progress.editions[*slot].attendance.completed_at;
                    });
    if (progress.cycle_complete) {
        for (const auto& slot : progress.modules) {
            const Instant at = *progress.editions[*slot].attendance.completed_at;
            if (!progress.cycle_completed_at || at > *progress.cycle_completed_at) {
                progress.cycle_completed_at = at;
            }
        }
    }
    return progress;
}

Result<std::vector<std::string>> attendee_ids(Database& db)
{
    auto rows = db.exec(
        "SELECT id FROM attendees UNION SELECT DISTINCT attendee_id FROM events ORDER BY 1");
    if (!rows) return rows.status();
    std::vector<std::string> ids;
    for (int r = 0; r < rows->count(); ++r) ids.push_back(rows->text(r, 0));
    return ids;
}

namespace {

nlohmann::json edition_to_json(const EditionProgress& e)
{
    nlohmann::json records = nlohmann::json::array();
    for (const auto& d : e.device_records) {
        records.push_back({{"device_id", d.device_id},
                           {"attendance_complete", d.attendance_complete},
                           {"sessions_attended", d.sessions_attended},
                           {"cme_credits", d.cme_credits},
                           {"agrees", d.agrees}});
    }
    return {{"module_id", e.module_id},
            {"cycle", e.cycle},
            {"venue", e.venue},
            {"first_day", e.first_day},
            {"last_day", e.last_day},
            {"in_roster", e.in_roster},
            {"completed_at", time_or_null(e.attendance.completed_at)},
            {"sessions_attended", e.attendance.result.sessions_attended},
            {"sessions_total", e.attendance.result.sessions_total},
            {"attendance_complete", e.attendance.result.attendance_complete},
            {"cme_credits", e.attendance.result.cme_credits},
            {"clock_untrusted", e.clock_untrusted},
            {"disagreement", e.disagreement()},
            {"device_records", std::move(records)}};
}

}  // namespace

nlohmann::json progress_to_json(const AttendeeProgress& progress)
{
    nlohmann::json modules = nlohmann::json::object();
    for (std::size_t n = 0; n < progress.modules.size(); ++n) {
        const auto& slot = progress.modules[n];
        modules[std::to_string(n + 1)] =
            slot ? edition_to_json(progress.editions[*slot]) : nlohmann::json(nullptr);
    }
    return {{"attendee_id", progress.attendee_id},
            {"name", progress.name()},
            {"modules", std::move(modules)},
            {"cycle_complete", progress.cycle_complete},
            {"cycle_completed_at", time_or_null(progress.cycle_completed_at)},
            {"cme_credits_total", progress.cme_credits_total()}};
}

Result<std::vector<nlohmann::json>> export_rows(Database& db, const std::string& module_id,
                                                const ZoneLookup& zones)
{
    std::vector<std::string> ids;
    if (module_id.empty()) {
        auto all = attendee_ids(db);
        if (!all) return all.status();
        ids = std::move(*all);
    } else {
        auto edition = db.exec("SELECT 1 FROM module_editions WHERE id = $1", {module_id});
        if (!edition) return edition.status();
        if (edition->count() == 0) {
            return Status::error(err::unknown_module, "no module edition " + module_id);
        }
        auto rows = db.exec(
            "SELECT attendee_id FROM roster_entries WHERE module_id = $1 UNION "
            "SELECT DISTINCT attendee_id FROM events WHERE module_id = $1 ORDER BY 1",
            {module_id});
        if (!rows) return rows.status();
        for (int r = 0; r < rows->count(); ++r) ids.push_back(rows->text(r, 0));
    }
    std::vector<nlohmann::json> out;
    for (const std::string& id : ids) {
        auto progress = attendee_progress(db, id, zones);
        if (!progress) return progress.status();
        for (const auto& e : progress->editions) {
            if (!module_id.empty() && e.module_id != module_id) continue;
            out.push_back({{"attendee_id", id},
                           {"name", progress->name()},
                           {"module_id", e.module_id},
                           {"sessions_attended", e.attendance.result.sessions_attended},
                           {"sessions_total", e.attendance.result.sessions_total},
                           {"attendance_complete", e.attendance.result.attendance_complete},
                           {"cme_credits", e.attendance.result.cme_credits},
                           {"completed_at", time_or_null(e.attendance.completed_at)}});
        }
    }
    return out;
}

std::string export_csv(const std::vector<nlohmann::json>& rows, char separator)
{
    static const char* const kColumns[] = {
        "attendee_id",         "name",        "module_id",   "sessions_attended", "sessions_total",
        "attendance_complete", "cme_credits", "completed_at"};
    std::string out(kUtf8Bom);
    for (const char* column : kColumns) {
        if (column != kColumns[0]) out += separator;
        out += column;
    }
    out += "\r\n";
    for (const auto& row : rows) {
        bool first = true;
        for (const char* column : kColumns) {
            if (!first) out += separator;
            first = false;
            const auto& v = row[column];
            if (v.is_string()) {
                out += csv_field(v.get<std::string>(), separator);
            } else if (v.is_boolean()) {
                out += v.get<bool>() ? "yes" : "no";
            } else if (v.is_number_float()) {
                out += csv_number(v.get<double>(), separator);
            } else if (v.is_number()) {
                out += v.dump();
            }
        }
        out += "\r\n";
    }
    return out;
}

}  // namespace ck::registry

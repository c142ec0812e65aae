#include "model/progress.hpp"

#include <algorithm>
#include <map>

#include "db/pg.hpp"

namespace ck::registry {

namespace {

Instant from_epoch(const std::string& seconds)
{
    return Instant{std::chrono::seconds(std::stoll(seconds))};
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

std::string attendee_name(const std::string& family_name, const std::string& given_name)
{
    if (given_name.empty()) return family_name;
    return family_name.empty() ? given_name : given_name + " " + family_name;
}

std::string AttendeeProgress::name() const { return attendee_name(family_name, given_name); }

double AttendeeProgress::cme_credits_total() const
{
    double total = 0;
    for (const auto& index : modules) {
        if (index) total += editions[*index].attendance.result.cme_credits;
    }
    return total;
}

EditionCatalog::EditionCatalog(ZoneLookup zones) : zones_(std::move(zones)) {}

Result<EditionCatalog::Snapshot> EditionCatalog::current(Database& db)
{
    auto revisions = db.exec("SELECT id, revision::text FROM module_editions");
    if (!revisions) return revisions.status();
    std::lock_guard lock(mutex_);
    std::vector<std::string> changed;
    for (int r = 0; r < revisions->count(); ++r) {
        auto it = parsed_.find(revisions->text(r, 0));
        if (it == parsed_.end() || it->second.revision != revisions->text(r, 1)) {
            changed.push_back(revisions->text(r, 0));
        }
    }
    if (!changed.empty()) {
        auto rows = db.exec(
            "SELECT id, revision::text, config::text FROM module_editions WHERE id = ANY($1)",
            {text_array(changed)});
        if (!rows) return rows.status();
        for (int r = 0; r < rows->count(); ++r) {
            auto module = parse_module(nlohmann::json::parse(rows->text(r, 2)), zones_);
            if (!module) return module.status();
            parsed_[rows->text(r, 0)] = {rows->text(r, 1),
                                         std::make_shared<const ModuleEdition>(std::move(*module))};
        }
    }
    Snapshot snapshot;
    for (const auto& [id, parsed] : parsed_) snapshot.emplace(id, parsed.edition);
    return snapshot;
}

Result<std::vector<AttendeeFacts>> load_facts(Database& db, const std::vector<std::string>& ids)
{
    const std::string id_array = text_array(ids);
    std::vector<AttendeeFacts> facts(ids.size());
    std::map<std::string, AttendeeFacts*> by_id;
    for (std::size_t i = 0; i < ids.size(); ++i) {
        facts[i].attendee_id = ids[i];
        by_id[ids[i]] = &facts[i];
    }
    auto people =
        db.exec("SELECT id, family_name, given_name FROM attendees WHERE id = ANY($1)", {id_array});
    if (!people) return people.status();
    for (int r = 0; r < people->count(); ++r) {
        AttendeeFacts& f = *by_id.at(people->text(r, 0));
        f.in_attendees = true;
        f.family_name = people->text(r, 1);
        f.given_name = people->text(r, 2);
    }
    auto rostered =
        db.exec("SELECT attendee_id, module_id FROM roster_entries WHERE attendee_id = ANY($1)",
                {id_array});
    if (!rostered) return rostered.status();
    for (int r = 0; r < rostered->count(); ++r) {
        by_id.at(rostered->text(r, 0))->in_roster.insert(rostered->text(r, 1));
    }
    auto rows = db.exec(
        "SELECT attendee_id, module_id, device_id, type, id::text, "
        "extract(epoch FROM at)::bigint, body->>'session_id', body->>'checkin_id', "
        "body->>'clock_untrusted', CASE WHEN type = 'completion' THEN body::text END, "
        "body->>'source' "
        "FROM events WHERE attendee_id = ANY($1) ORDER BY attendee_id, module_id, device_id, seq",
        {id_array});
    if (!rows) return rows.status();
    for (int r = 0; r < rows->count(); ++r) {
        auto& edition = by_id.at(rows->text(r, 0))->events[rows->text(r, 1)];
        const std::string type = rows->text(r, 3);
        if (type == "checkin" || type == "checkout" || type == "void") {
            AttendanceEvent e;
            e.kind = type == "checkin"    ? AttendanceEvent::Kind::checkin
                     : type == "checkout" ? AttendanceEvent::Kind::checkout
                                          : AttendanceEvent::Kind::voiding;
            e.manual = rows->text(r, 10) == "manual";  // staff's: never a double scan
            e.id = rows->text(r, 4);
            e.at = from_epoch(rows->text(r, 5));
            e.session_id = rows->text(r, 6);
            std::string voided = rows->text(r, 7);
            std::transform(voided.begin(), voided.end(), voided.begin(),
                           [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
            e.checkin_id = voided;
            if (type == "checkin" && rows->text(r, 8) == "true") ++edition.clock_untrusted;
            edition.events.push_back(std::move(e));
        } else if (type == "completion") {
            edition.latest_record[rows->text(r, 2)] = nlohmann::json::parse(rows->text(r, 9));
        }
    }
    return facts;
}

Result<AttendeeProgress> compute_progress(const AttendeeFacts& facts,
                                          const EditionCatalog::Snapshot& editions)
{
    if (!facts.known()) {
        return Status::error(err::not_found,
                             "The registry knows no attendee " + facts.attendee_id + ".",
                             "Check the registration number.");
    }
    AttendeeProgress progress;
    progress.attendee_id = facts.attendee_id;
    progress.family_name = facts.family_name;
    progress.given_name = facts.given_name;
    std::set<std::string> module_ids = facts.in_roster;
    for (const auto& [module_id, _] : facts.events) module_ids.insert(module_id);
    for (const std::string& module_id : module_ids) {
        auto found = editions.find(module_id);
        if (found == editions.end()) {
            return Status::error(err::unknown_module, "no module edition " + module_id);
        }
        const ModuleEdition& module = *found->second;
        EditionProgress e;
        e.module_id = module_id;
        e.number = module.number;
        e.cycle = module.cycle;
        e.venue = module.venue;
        if (!module.days.empty()) {
            e.first_day = module.days.front().date_text();
            e.last_day = module.days.back().date_text();
        }
        e.in_roster = facts.in_roster.count(module_id) != 0;
        if (auto it = facts.events.find(module_id); it != facts.events.end()) {
            e.attendance = attendance_from_events(module, it->second.events);
            e.clock_untrusted = it->second.clock_untrusted;
            for (const auto& [device_id, record] : it->second.latest_record) {
                e.device_records.push_back(compare(device_id, record, e.attendance));
            }
        } else {
            e.attendance = attendance_from_events(module, {});
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

Result<AttendeeProgress> attendee_progress(Database& db, const std::string& attendee_id,
                                           const ZoneLookup& zones)
{
    auto facts = load_facts(db, {attendee_id});
    if (!facts) return facts.status();
    EditionCatalog catalog(zones);
    auto editions = catalog.current(db);
    if (!editions) return editions.status();
    return compute_progress(facts->front(), *editions);
}

nlohmann::json time_or_null(const std::optional<Instant>& t)
{
    return t ? nlohmann::json(format_rfc3339_utc(*t)) : nlohmann::json(nullptr);
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

nlohmann::json cycle_state_to_json(const AttendeeProgress& progress)
{
    nlohmann::json completed = nlohmann::json::array();
    for (std::size_t n = 0; n < progress.modules.size(); ++n) {
        const auto& slot = progress.modules[n];
        if (slot && progress.editions[*slot].attendance.completed_at) {
            completed.push_back(static_cast<int>(n) + 1);
        }
    }
    return {{"attendee_id", progress.attendee_id},
            {"name", progress.name()},
            {"cycle_complete", progress.cycle_complete},
            {"cycle_completed_at", time_or_null(progress.cycle_completed_at)},
            {"modules_completed", std::move(completed)},
            {"cme_credits_total", progress.cme_credits_total()}};
}

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

}  // namespace ck::registry

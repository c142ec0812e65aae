#include "cli/demo.hpp"

#include <date/date.h>
#include <date/tz.h>
#include <sys/stat.h>

#include <deque>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "api/server.hpp"
#include "cli/demo_cluster.hpp"
#include "cli/registry_cli.hpp"
#include "core/attendance.hpp"
#include "core/demo_course.hpp"
#include "core/password.hpp"
#include "db/migrations.hpp"
#include "model/badges.hpp"
#include "model/devices.hpp"
#include "model/editions.hpp"
#include "model/events.hpp"
#include "model/rosters.hpp"
#include "model/staff.hpp"

namespace ck::registry {

namespace {

namespace fs = std::filesystem;

constexpr const char* kStaff = "office";
constexpr const char* kKioskDevice = "demo-kiosk";
// What the demo directory holds besides the cluster; written last, so a demo cut off
// while it was being made is made again.
constexpr const char* kMarker = "demo.json";

// The four editions of the demo's cycle: module 3 is on (today is its last day), the
// others were held in the weeks before, module 4 before module 3 (any order counts).
struct DemoEdition {
    int number;
    const char* venue;
    int days_ago;  // of its first day
};
constexpr DemoEdition kEditions[] = {
    {1, "Lille", 70}, {2, "Riga", 42}, {4, "Vienna", 21}, {3, "Demo venue", 4}};

// Who is in which roster, by the 1-based numbers of the demo's attendees (A001...).
bool in_roster(int number, int person)
{
    switch (number) {
        case 1:
            return person <= 30;
        case 2:
            return person <= 20 || (person >= 31 && person <= 35);
        case 4:
            return person <= 15 || (person >= 21 && person <= 25);
        default:
            return true;  // module 3: everyone
    }
}

const date::time_zone* lookup_zone(std::string_view name)
{
    try {
        return date::locate_zone(name);
    } catch (const std::exception&) {
        return nullptr;
    }
}

const date::time_zone* machine_zone()
{
    try {
        return date::current_zone();
    } catch (const std::exception&) {
        return date::locate_zone("Etc/UTC");
    }
}

std::string new_event_id()
{
    std::string hex = random_hex(16);
    hex[12] = '4';                                                    // version 4
    hex[16] = "89ab"[std::stoi(hex.substr(16, 1), nullptr, 16) & 3];  // RFC 4122 variant
    return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" +
           hex.substr(16, 4) + "-" + hex.substr(20);
}

std::string person_id(int person) { return demo_attendee_id(static_cast<std::size_t>(person - 1)); }

// One demo device's event log, as a device would have written it (docs/sync.md section 3).
class DeviceLog {
public:
    DeviceLog(std::string device_id, const ModuleEdition& module)
        : device_id_(std::move(device_id)), module_(module)
    {
    }

    // A check-in `minutes` after the start of session `index` of day `day` (0-based).
    std::string checkin(int person, int day, int index, int minutes, bool clock_untrusted = false)
    {
        const DaySpec& d = module_.days.at(static_cast<std::size_t>(day));
        const SessionSpec& s = d.sessions.at(static_cast<std::size_t>(index));
        Instant at =
            resolve_local_time(d.year, d.month, d.day, s.start_min + minutes, module_.zone);
        nlohmann::json e = event("checkin", person, at);
        e["session_id"] = s.id;
        e["source"] = "badge";
        e["late"] = minutes > module_.late_after_min;
        e["not_in_roster"] = false;
        e["clock_untrusted"] = clock_untrusted;
        attended_[person].insert(s.id);
        std::string id = e["id"];
        events_.push_back(std::move(e));
        return id;
    }

    void void_checkin(int person, const std::string& checkin_id, const std::string& session_id,
                      Instant at, const std::string& reason)
    {
        nlohmann::json e = event("void", person, at);
        e["session_id"] = session_id;
        e["checkin_id"] = checkin_id;
        e["reason"] = reason;
        e["staff"] = "Demo staff";
        attended_[person].erase(session_id);
        events_.push_back(std::move(e));
    }

    // The completion records the device writes when the module closes (the day after).
    void close()
    {
        const DaySpec& last = module_.days.back();
        Instant at = resolve_local_time(last.year, last.month, last.day, 1440 + 5, module_.zone);
        for (const auto& [person, sessions] : attended_) {
            nlohmann::json e = completion_record(module_, person_id(person), sessions, true);
            e.erase("attendee_id");
            e.update(event("completion", person, at));
            events_.push_back(std::move(e));
        }
    }

    const std::string& device_id() const { return device_id_; }
    std::string module_id() const { return module_.id(); }
    std::string body() const
    {
        return nlohmann::json{{"device_id", device_id_}, {"first_seq", 1}, {"events", events_}}
            .dump();
    }

private:
    nlohmann::json event(const char* type, int person, Instant at)
    {
        return {{"seq", static_cast<int>(events_.size()) + 1},
                {"id", new_event_id()},
                {"type", type},
                {"at", format_rfc3339(at, module_.zone)},
                {"module_id", module_.id()},
                {"attendee_id", person_id(person)}};
    }

    std::string device_id_;
    const ModuleEdition& module_;
    nlohmann::json events_ = nlohmann::json::array();
    std::map<int, std::set<std::string>> attended_;
};

// Every session of the days `days` (0-based), badge check-ins a little after the start.
void attend(DeviceLog& log, int person, std::initializer_list<int> days, int sessions_per_day = 2)
{
    for (int day : days) {
        for (int s = 0; s < sessions_per_day; ++s) log.checkin(person, day, s, 20 + person % 25);
    }
}

// The events of the demo's devices (see demo.hpp for the story).
std::deque<DeviceLog> demo_logs(const std::map<int, ModuleEdition>& editions)
{
    std::deque<DeviceLog> logs;  // a deque: the references below stay valid
    DeviceLog& lille = logs.emplace_back("demo-lille", editions.at(1));
    for (int p = 1; p <= 30; ++p)
        attend(lille, p,
               p <= 20 ? std::initializer_list<int>{0, 1, 2, 3, 4}
                       : std::initializer_list<int>{0, 1, 2, 3});
    {
        const DaySpec& d5 = editions.at(1).days[4];
        std::string wrong = lille.checkin(21, 4, 0, 35);
        lille.void_checkin(21, wrong, d5.sessions[0].id,
                           resolve_local_time(d5.year, d5.month, d5.day, 40, editions.at(1).zone),
                           "wrong attendee picked");
    }
    lille.close();

    DeviceLog& riga = logs.emplace_back("demo-riga", editions.at(2));
    for (int p = 1; p <= 20; ++p) attend(riga, p, {0, 1, 2, 3, 4});
    for (int p = 31; p <= 35; ++p) attend(riga, p, {0, 1, 2});
    riga.close();

    // Vienna had two kiosks, one for the mornings and one for the afternoons: neither saw a
    // whole module, their union does.
    DeviceLog& vienna_a = logs.emplace_back("demo-vienna-a", editions.at(4));
    DeviceLog& vienna_b = logs.emplace_back("demo-vienna-b", editions.at(4));
    std::string mistaken;
    for (int p = 1; p <= 25; ++p) {
        if (p > 15 && p < 21) continue;
        for (int day = 0; day < 5; ++day) {
            std::string id = vienna_a.checkin(p, day, 0, 15 + p % 30);
            if (p == 5 && day == 2) mistaken = id;
            vienna_b.checkin(p, day, 1, 10 + p % 30, p == 10 && day == 0);
        }
    }
    vienna_a.close();  // before hall B's void reached it: its record for A005 disagrees
    const DaySpec& d3 = editions.at(4).days[2];
    vienna_b.void_checkin(5, mistaken, d3.sessions[0].id,
                          resolve_local_time(d3.year, d3.month, d3.day,
                                             d3.sessions[1].start_min + 30, editions.at(4).zone),
                          "A005 was not there: a colleague scanned the badge");
    vienna_b.close();

    // Module 3, days 1 to 4 at the venue's other kiosk; today's sessions are the demo's.
    DeviceLog& hall_b = logs.emplace_back("demo-hall-b", editions.at(3));
    for (int p = 1; p <= 40; ++p)
        attend(
            hall_b, p,
            p <= 35 ? std::initializer_list<int>{0, 1, 2, 3} : std::initializer_list<int>{0, 2, 3});
    return logs;
}

nlohmann::json edition_json(const DemoEdition& e, date::year_month_day today,
                            const std::string& zone)
{
    auto first = date::year_month_day(date::sys_days(today) - date::days(e.days_ago));
    nlohmann::json module = demo_module_json(first, zone, demo_cycle(today), e.number, e.venue);
    // Module 3 is on its last day: nine of its ten sessions complete it, so that one
    // check-in today (morning or afternoon) completes it for those who came on days 1-4.
    if (e.number == 3) module["completion"] = {{"min_sessions", 9}};
    return module;
}

Status write_private(const std::string& path, const std::string& text)
{
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << text;
    out.close();
    if (!out) return Status::error(err::storage_error, "cannot write " + path);
    if (chmod(path.c_str(), 0600) != 0) {
        return Status::error(err::storage_error, "cannot make " + path + " private");
    }
    return Status::ok();
}

std::string read_trimmed(const std::string& path)
{
    std::ifstream in(path);
    std::string line;
    std::getline(in, line);
    return line;
}

// Makes the demo's records in an empty (just migrated) database.
Status seed(Database& db, const std::string& dir, date::year_month_day today,
            const date::time_zone* zone)
{
    std::map<int, ModuleEdition> editions;
    nlohmann::json roster_people = nlohmann::json::array();
    auto people = demo_people();
    for (const DemoEdition& e : kEditions) {
        nlohmann::json module_json = edition_json(e, today, zone->name());
        auto added = add_edition(db, module_json, lookup_zone);
        if (!added) return added.status();
        auto parsed = parse_module(module_json, lookup_zone);
        if (!parsed) return parsed.status();
        nlohmann::json roster = nlohmann::json::array();
        for (std::size_t i = 0; i < people.size(); ++i) {
            if (!in_roster(e.number, static_cast<int>(i) + 1)) continue;
            roster.push_back({{"id", demo_attendee_id(i)},
                              {"family_name", people[i].family},
                              {"given_name", people[i].given},
                              {"country", people[i].country}});
        }
        auto imported = import_roster(db, added->module_id, "demo.json", roster.dump());
        if (!imported) return imported.status();
        editions.emplace(e.number, std::move(*parsed));
    }
    // The demo devices' logs go through the batch path of every device (the schema, the
    // checks, one transaction with the dedup rules), each with its own token.
    const nlohmann::json schema = batch_schema();
    BatchParser parser(schema);
    for (const DeviceLog& log : demo_logs(editions)) {
        auto token = add_device(db, log.device_id(), log.module_id());
        if (!token) return token.status();
        auto batch = parser.parse(log.body(), log.device_id());
        if (!batch) return batch.status();
        auto applied = apply_batch(db, *token, *batch);
        if (!applied) return applied.status();
        if (!applied->status) return applied->status;
    }
    // A badge-signing key, so that the roster the kiosk pulls trusts badges the registry
    // prints (course-registry badges).
    auto key = rotate_key(db);
    if (!key) return key.status();
    auto token = add_device(db, kKioskDevice, editions.at(3).id());
    if (!token) return token.status();
    if (Status s = write_private(dir + "/" + kKioskDevice + ".token", *token + "\n"); !s) return s;
    const std::string password = random_hex(6);
    bool replaced = false;
    if (Status s = put_staff(db, kStaff, password, replaced); !s) return s;
    if (Status s = write_private(dir + "/office-password", password + "\n"); !s) return s;
    const ModuleEdition& m3 = editions.at(3);
    nlohmann::json marker = {{"module_id", m3.id()},
                             {"first_day", m3.days.front().date_text()},
                             {"last_day", m3.days.back().date_text()},
                             {"module", edition_json(kEditions[3], today, zone->name())}};
    return write_private(dir + "/" + kMarker, marker.dump(2) + "\n");
}

// The demo directory as it is: reused while today is one of module 3's days, moved aside
// when older, refused when it is something else.
Status prepare_directory(const std::string& dir, const std::string& today_text, bool& reuse)
{
    reuse = false;
    if (!fs::exists(dir)) return Status::ok();
    const std::string marker_path = dir + "/" + kMarker;
    if (fs::exists(marker_path)) {
        std::ifstream in(marker_path);
        const nlohmann::json marker = nlohmann::json::parse(in, nullptr, false);
        if (!marker.is_discarded() && marker.value("first_day", "") <= today_text &&
            today_text <= marker.value("last_day", "")) {
            reuse = true;
            return Status::ok();
        }
        DemoCluster old(dir);
        if (old.running()) {
            std::cout << "course-registry: stopping the old demo's PostgreSQL" << std::endl;
            if (Status s = old.start(); !s) return s;
            if (Status s = old.stop(); !s) return s;
        }
        std::string aside =
            dir + "." +
            (marker.is_discarded() ? std::string("old") : marker.value("first_day", "old"));
        std::error_code ec;
        fs::rename(dir, aside, ec);
        if (ec) {
            return Status::error(err::storage_unavailable,
                                 "cannot move the old demo directory aside: " + ec.message(),
                                 "Remove " + dir + " or use another --data directory.");
        }
        std::cout << "course-registry: the old demo data is now in " << aside << std::endl;
        return Status::ok();
    }
    // A demo cut off while it was being made has only its cluster: that is made again.
    for (const auto& entry : fs::directory_iterator(dir)) {
        const std::string name = entry.path().filename().string();
        if (name != "db" && name != "run") {
            return Status::error(err::invalid_config,
                                 dir + " holds files that are not a registry demo's",
                                 "Use another --data directory for the demo.");
        }
    }
    return Status::ok();
}

void print_banner(const std::string& dir, const std::string& url, const DemoCluster& cluster,
                  const std::string& config_path)
{
    auto people = demo_people();
    std::cout << "\nDemo registry: the four modules of the ECNR cycle, " << people.size()
              << " attendees, PostgreSQL in " << dir << "\n"
              << "  Office:          " << url << "/office  (login " << kStaff << " / "
              << read_trimmed(dir + "/office-password") << ")\n"
              << "  Database:        " << cluster.conninfo() << "\n"
              << "  A kiosk for module 3 that syncs here (device config " << config_path << "):\n"
              << "    course-kiosk serve --demo --config " << config_path << " --data " << dir
              << "/kiosk\n"
              << "Module 3 is on its last day: check in " << people[0].given << " "
              << people[0].family << " (A001) at that kiosk and her ECNR cycle completes"
              << " (the office shows it once the kiosk has synced).\n"
              << "Stop with Ctrl+C (PostgreSQL stops too; the data stays in " << dir << ")."
              << std::endl;
}

}  // namespace

int cmd_serve_demo(const std::string& data_dir, const std::string& listen)
{
    std::error_code ec;
    const std::string dir = fs::absolute(data_dir, ec).lexically_normal().string();
    if (ec) return report_failure(Status::error(err::invalid_config, "cannot resolve " + data_dir));
    const date::time_zone* zone = machine_zone();
    auto local_today = date::floor<date::days>(
        date::make_zoned(zone, std::chrono::system_clock::now()).get_local_time());
    const date::year_month_day today{date::sys_days(local_today.time_since_epoch())};

    bool reuse = false;
    if (Status s = prepare_directory(dir, date_text(today), reuse); !s) return report_failure(s);
    DemoCluster cluster(dir);
    std::cout << "course-registry: " << (reuse ? "starting" : "making")
              << " the demo's PostgreSQL cluster in " << dir << std::endl;
    if (Status s = cluster.start(); !s) {
        cluster.stop();
        return report_failure(s);
    }
    struct StopCluster {  // on every way out: the demo's PostgreSQL is the demo's
        DemoCluster& cluster;
        ~StopCluster()
        {
            if (Status s = cluster.stop(); !s) report_failure(s);
        }
    } stop_cluster{cluster};
    if (!reuse) {
        auto db = Database::connect(cluster.conninfo());
        if (!db) return report_failure(db.status());
        // A demo cut off while it was being made left a half-made database: start afresh.
        auto fresh = db->exec_script("DROP SCHEMA public CASCADE; CREATE SCHEMA public;");
        if (!fresh) return report_failure(fresh);
        auto migrated = migrate(*db);
        if (!migrated) return report_failure(migrated.status());
        std::cout << "course-registry: making the demo's editions, rosters and check-ins"
                  << std::endl;
        if (Status s = seed(*db, dir, today, zone); !s) return report_failure(s);
    }

    std::ifstream marker_in(dir + "/" + kMarker);
    const nlohmann::json marker = nlohmann::json::parse(marker_in, nullptr, false);
    const std::string config_path = dir + "/" + kKioskDevice + ".json";
    return cmd_serve(cluster.conninfo(), listen, [&](const std::string& url) {
        nlohmann::json config = {{"device_id", kKioskDevice},
                                 {"listen", "127.0.0.1:8080"},
                                 {"module", marker.value("module", nlohmann::json::object())},
                                 {"registry",
                                  {{"url", url},
                                   {"token_file", dir + "/" + kKioskDevice + ".token"},
                                   {"interval_s", 5}}}};
        if (Status s = write_private(config_path, config.dump(2) + "\n"); !s) report_failure(s);
        print_banner(dir, url, cluster, config_path);
    });
}

}  // namespace ck::registry

#include "cli/demo.hpp"

#include <date/date.h>
#include <date/tz.h>

#include <cstdio>
#include <filesystem>
#include <iostream>

#include "app/device.hpp"
#include "app/files.hpp"
#include "cli/commands.hpp"
#include "core/demo_course.hpp"
#include "core/password.hpp"

namespace ck {
namespace {

constexpr const char* kDemoStaff = "staff";

const date::time_zone* demo_zone()
{
    try {
        return date::current_zone();
    } catch (const std::exception&) {
        return date::locate_zone("Etc/UTC");
    }
}

nlohmann::json demo_config(date::year_month_day first_day, const std::string& zone)
{
    return {{"device_id", "demo-kiosk"},
            {"listen", "127.0.0.1:8080"},
            {"module", demo_module_json(first_day, zone, demo_cycle(first_day), 3, "Demo venue")}};
}

}  // namespace

Status prepare_demo(const std::string& data_dir, const std::string& config_path)
{
    const date::time_zone* zone = demo_zone();
    auto now = std::chrono::system_clock::now();
    auto local_today = date::floor<date::days>(date::make_zoned(zone, now).get_local_time());
    date::year_month_day today{date::sys_days(local_today.time_since_epoch())};

    // With a config (the registry demo's), its module; else a module starting today.
    std::string module_id;
    if (!config_path.empty()) {
        auto given = load_config_file(config_path, lookup_system_zone);
        if (!given) return given.status();
        module_id = given->module.id();
    }
    std::string existing_path = data_dir + "/config.json";
    if (path_exists(existing_path)) {
        auto existing = load_config_file(existing_path, lookup_system_zone);
        if (existing) {
            bool same_module = module_id.empty() || existing->module.id() == module_id;
            for (const auto& day : existing->module.days) {
                if (same_module && day.date_text() == date_text(today)) return Status::ok();
            }
            std::string aside = data_dir + "." + existing->module.days.front().date_text();
            std::error_code ec;
            std::filesystem::rename(data_dir, aside, ec);
            if (ec) {
                return Status::error(err::storage_unavailable,
                                     "cannot move the old demo directory aside: " + ec.message(),
                                     "Remove " + data_dir + " or use another --data directory.");
            }
            std::cout << "course-kiosk: the old demo data is now in " << aside << "\n";
        } else {
            return Status::error(
                err::invalid_config,
                data_dir + " holds data that is not a demo: " + existing.status().message(),
                "Use another --data directory for the demo.");
        }
    }
    if (Status s = make_directories(data_dir, 0750); !s) return s;
    if (config_path.empty()) {
        std::string staged = data_dir + "/demo-config.json";
        if (Status s = write_file_atomic(staged, demo_config(today, zone->name()).dump(2), 0640);
            !s)
            return s;
        if (Status s = init_device(data_dir, staged); !s) return s;
        std::filesystem::remove(staged);
    } else if (Status s = init_device(data_dir, config_path); !s) {
        return s;
    }

    auto device = open_device(data_dir);
    if (!device) return device.status();
    std::vector<Attendee> attendees;
    auto people = demo_people();
    for (std::size_t i = 0; i < people.size(); ++i) {
        attendees.push_back(
            {demo_attendee_id(i), people[i].family, people[i].given, "", people[i].country});
    }
    auto stats = (*device)->store->import_roster(attendees);
    if (!stats) return stats.status();
    // A staff account whose password is kept (0600) beside the data, so the banner can show it.
    std::string password = random_hex(6);
    StaffAccount staff;
    staff.username = kDemoStaff;
    staff.password_hash = hash_password(password);
    if (Status s = (*device)->store->put_staff(staff); !s) return s;
    return write_file_atomic(data_dir + "/demo-staff-password", password + "\n", 0600);
}

void print_demo_banner(Device& device, const std::string& base_url)
{
    std::string password = read_file(device.data_dir + "/demo-staff-password").value_or("?");
    while (!password.empty() && password.back() == '\n') password.pop_back();
    std::cout << "\nDemo module " << device.config.module.id() << " (" << device.config.module.title
              << "), " << device.store->attendee_count() << " attendees, time zone "
              << device.config.module.timezone << "\n"
              << "  Kiosk check-in page:  " << base_url << "/\n"
              << "  Staff dashboard:      " << base_url << "/staff  (login " << kDemoStaff << " / "
              << password << ")\n"
              << "  Health:               " << base_url << "/healthz\n"
              << "  Module:               " << base_url << "/api/v1/module\n";
    if (device.clock.trust_source() == "demo") {
        std::cout << "The demo trusts this machine's clock, which is not NTP-synchronised; a real "
                     "device does not,\nand holds check-ins until NTP, staff or the registry "
                     "confirm the time.\n";
    }
    if (device.signing_key) {
        std::cout << "Sample credentials (type one into the kiosk page, or POST it):\n";
        int shown = 0;
        for (const auto& a : device.store->attendees()) {
            if (shown++ == 2) break;
            std::string text = device.credential_for(a.id);
            std::cout << "  " << a.display_name() << " (" << a.id << "): " << text << "\n";
        }
        std::cout << "  curl -s -X POST " << base_url
                  << "/api/v1/checkins -H 'Content-Type: application/json' -d "
                     "'{\"credential\":\"<one of the above>\"}'\n";
    }
    std::cout << "Stop with Ctrl+C." << std::endl;
}

}  // namespace ck

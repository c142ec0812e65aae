#include <iostream>
#include <regex>

#include "app/checkin_service.hpp"
#include "app/device.hpp"
#include "app/files.hpp"
#include "app/reports.hpp"
#include "app/staff_accounts.hpp"
#include "cli/commands.hpp"
#include "core/password.hpp"
#include "sync/outbox_relay.hpp"

namespace ck {

int cmd_staff_add(const std::string& data_dir, const std::string& name,
                  const std::string& role_text)
{
    static const std::regex pattern("[A-Za-z0-9._-]{1,64}");
    if (!std::regex_match(name, pattern)) {
        std::cerr << "course-kiosk: a staff name is 1-64 letters, digits, '.', '_' or '-'\n";
        return kExitUsage;
    }
    std::optional<StaffRole> role;
    if (!role_text.empty()) {
        role = parse_staff_role(role_text);
        if (!role) {
            std::cerr << "course-kiosk: --role must be admin or staff\n";
            return kExitUsage;
        }
    }
    auto opened = open_device(data_dir);
    if (!opened) return report_failure(opened.status());
    // The password comes from standard input, never from an argument (which `ps` shows).
    std::string password;
    std::getline(std::cin, password);
    if (!password.empty() && password.back() == '\r') password.pop_back();
    if (password.size() < kMinPasswordLength) {
        return report_failure(Status::error(err::malformed_request,
                                            "the password must have at least 8 characters",
                                            "Pipe it in: printf '%s\\n' \"$PASSWORD\" | "
                                            "course-kiosk staff add --data DIR NAME"));
    }
    Device& device = **opened;
    bool existed = false;
    auto account = put_staff_from_command_line(device, name, password, role, existed);
    if (!account) return report_failure(account.status());
    std::cout << "Staff account " << name << (existed ? " updated" : " created") << " ("
              << staff_role_name(account->role) << (account->disabled ? ", disabled" : "") << ")\n";
    return kExitOk;
}

int cmd_sync_once(const std::string& data_dir)
{
    auto opened = open_device(data_dir);
    if (!opened) return report_failure(opened.status());
    Device& device = **opened;
    CheckinService checkins(device);
    OutboxRelay relay(device, checkins);
    SyncOutcome outcome = relay.sync_once();
    auto status = relay.status();
    if (!outcome.error.is_ok()) return report_failure(outcome.error);
    std::cout << "Sync: " << outcome.sent << " events sent; acknowledged through "
              << status["acked_through"] << " of " << status["last_seq"] << "\n";
    return kExitOk;
}

int cmd_badges(const std::string& data_dir, const std::string& out_path)
{
    auto opened = open_device(data_dir);
    if (!opened) return report_failure(opened.status());
    auto sheet = render_badge_sheet(**opened, {});
    if (!sheet) return report_failure(sheet.status());
    if (Status s = write_file_atomic(out_path, *sheet, 0644); !s) return report_failure(s);
    std::cout << "Wrote badges for " << (*opened)->store->attendee_count() << " attendees to "
              << out_path << " (print on A4, 8 per page)\n";
    return kExitOk;
}

int cmd_export(const std::string& data_dir, const std::string& format)
{
    auto opened = open_device(data_dir);
    if (!opened) return report_failure(opened.status());
    if (format == "csv") {
        write_export_csv(**opened, ',', [](std::string_view piece) {
            return static_cast<bool>(
                std::cout.write(piece.data(), static_cast<std::streamsize>(piece.size())));
        });
    } else if (format == "json") {
        std::cout << export_json(**opened).dump(2) << "\n";
    } else {
        std::cerr << "course-kiosk: --format must be csv or json\n";
        return kExitUsage;
    }
    return kExitOk;
}

}  // namespace ck

// The subcommands of `course-kiosk` (SPEC section 4). Each returns the process exit code:
// 0 success, 1 runtime failure, 2 usage error. Errors go to stderr as one line that says
// what failed and what to do.
#pragma once

#include <string>
#include <vector>

#include "core/status.hpp"

namespace ck {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;

// Prints "course-kiosk: <message> (<hint>)" to stderr and returns kExitFailure.
int report_failure(const Status& status);

struct ServeOptions {
    std::string data_dir;
    std::string config_path;
    std::string listen;  // empty: from the config
    std::string web_dir;
    bool demo = false;
};

int cmd_init(const std::string& data_dir, const std::string& config_path);
int cmd_serve(ServeOptions options);
int cmd_roster_import(const std::string& data_dir, const std::string& file);
// The route table as JSON: [{"method","pattern","access"}].
int cmd_routes();
// One sync pass (works while the server runs: LMDB serialises the writers).
int cmd_sync_once(const std::string& data_dir);
// Checks config, data directory, disk, store, server, clock and registry; one line each.
int cmd_doctor(const std::string& data_dir, std::string config_path);
// Creates a staff account (role `role`: "admin", the default when empty, or "staff") or
// resets its password (its role changed only when `role` is given).
int cmd_staff_add(const std::string& data_dir, const std::string& name,
                  const std::string& role = "");
int cmd_badges(const std::string& data_dir, const std::string& out_path);
int cmd_export(const std::string& data_dir, const std::string& format);
// Prints credentials; with `reissue`, first revokes each named attendee's current badge.
int cmd_credential(const std::string& data_dir, bool svg, bool reissue,
                   const std::vector<std::string>& ids);

}  // namespace ck

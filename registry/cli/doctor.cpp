// `course-registry doctor`: is this registry ready to serve? One line per check,
//   ok    database   host=/var/run/postgresql dbname=course_registry: PostgreSQL 15.18
// with "ok", "warn" or "FAIL", and exit code 1 when any check failed. Read-only.
#include <sys/timex.h>

#include <chrono>
#include <cmath>
#include <iomanip>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "cli/registry_cli.hpp"
#include "db/migrations.hpp"
#include "db/pg.hpp"

namespace ck::registry {

namespace {

enum class Level { ok, warn, fail };

struct Check {
    Level level;
    std::string name;
    std::string text;
};

// The kernel's view: NTP (or chrony, systemd-timesyncd) keeps the clock in step.
bool clock_synchronised()
{
    timex tx{};
    const int state = adjtimex(&tx);
    return state != TIME_ERROR && state != -1 && (tx.status & STA_UNSYNC) == 0;
}

}  // namespace

int cmd_doctor(const std::string& conninfo)
{
    std::vector<Check> checks;
    auto db = Database::connect(conninfo);
    if (!db) {
        checks.push_back({Level::fail, "database", db.status().message()});
    } else {
        auto version = db->exec("SELECT current_setting('server_version')");
        checks.push_back({Level::ok, "database",
                          conninfo + ": PostgreSQL " + (version ? version->text(0, 0) : "?")});
        auto schema = schema_version(*db);
        if (!schema) {
            checks.push_back({Level::fail, "schema", schema.status().message()});
        } else if (*schema == latest_schema_version()) {
            checks.push_back(
                {Level::ok, "schema", "version " + std::to_string(*schema) + ", current"});
        } else if (*schema < latest_schema_version()) {
            checks.push_back({Level::fail, "schema",
                              "version " + std::to_string(*schema) + ", this registry needs " +
                                  std::to_string(latest_schema_version()) +
                                  ": run course-registry migrate (serve does it at start)"});
        } else {
            checks.push_back({Level::fail, "schema",
                              "version " + std::to_string(*schema) +
                                  ", newer than this registry knows: run the newer one"});
        }
        if (schema && *schema == latest_schema_version()) {
            auto counts = db->exec(
                "SELECT (SELECT count(*) FROM module_editions), (SELECT count(*) FROM devices "
                "WHERE revoked_at IS NULL), (SELECT count(*) FROM staff WHERE disabled_at IS "
                "NULL), (SELECT count(*) FROM signing_keys WHERE retired_at IS NULL)");
            if (counts) {
                const bool staff = counts->text(0, 2) != "0";
                checks.push_back({staff ? Level::ok : Level::warn, "records",
                                  counts->text(0, 0) + " module edition(s), " + counts->text(0, 1) +
                                      " device(s), " + counts->text(0, 2) + " staff account(s)" +
                                      (staff ? "" : " (none can log in to /office: staff add)") +
                                      ", " + counts->text(0, 3) + " badge key(s)"});
            }
        }
        // The devices take their clocks from the registry's Date header: it must be right.
        auto db_time = db->exec("SELECT extract(epoch FROM clock_timestamp())");
        if (db_time) {
            const double local =
                std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch())
                    .count();
            const double offset = std::stod(db_time->text(0, 0)) - local;
            std::ostringstream text;
            text << std::fixed << std::setprecision(1) << "PostgreSQL's clock is " << offset
                 << " s from this machine's";
            checks.push_back(
                {std::fabs(offset) < 2 ? Level::ok : Level::warn, "db clock", text.str()});
        }
    }
    checks.push_back(clock_synchronised()
                         ? Check{Level::ok, "clock", "synchronised (NTP)"}
                         : Check{Level::warn, "clock",
                                 "not NTP-synchronised: devices correct their clocks from the "
                                 "registry's Date header, so keep it right (chrony, "
                                 "systemd-timesyncd)"});
    bool failed = false;
    for (const Check& check : checks) {
        static const char* const kLabels[] = {"ok", "warn", "FAIL"};
        std::cout << std::left << std::setw(6) << kLabels[static_cast<int>(check.level)]
                  << std::setw(10) << check.name << " " << check.text << "\n";
        failed = failed || check.level == Level::fail;
    }
    std::cout << (failed ? "Something needs attention (FAIL above)." : "Ready.") << std::endl;
    return failed ? kExitFailure : kExitOk;
}

}  // namespace ck::registry

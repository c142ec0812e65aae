// course-registry: the organiser's central server's command line (SPEC section 9).
#include <date/tz.h>

#include <CLI/CLI.hpp>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "db/migrations.hpp"
#include "db/pg.hpp"
#include "model/editions.hpp"

namespace {

using namespace ck;
using namespace ck::registry;

constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

int report_failure(const Status& status)
{
    std::cerr << "course-registry: " << status.message();
    if (!status.hint().empty()) std::cerr << " (" << status.hint() << ")";
    std::cerr << "\n";
    return kExitFailure;
}

const date::time_zone* system_zone(std::string_view name)
{
    try {
        return date::locate_zone(name);
    } catch (const std::exception&) {
        return nullptr;
    }
}

int cmd_migrate(const std::string& conninfo)
{
    auto db = Database::connect(conninfo);
    if (!db) return report_failure(db.status());
    auto outcome = migrate(*db);
    if (!outcome) return report_failure(outcome.status());
    if (outcome->from_version == outcome->to_version) {
        std::cout << "Schema is current (version " << outcome->to_version << ")\n";
    } else {
        std::cout << "Migrated the schema from version " << outcome->from_version << " to "
                  << outcome->to_version << "\n";
    }
    return kExitOk;
}

// Commands other than migrate need the schema this binary knows, exactly.
Result<Database> open_current(const std::string& conninfo)
{
    auto db = Database::connect(conninfo);
    if (!db) return db.status();
    auto version = schema_version(*db);
    if (!version) return version.status();
    if (*version != latest_schema_version()) {
        return Status::error(
            err::store_too_new,
            "the database's schema is at version " + std::to_string(*version) +
                "; this course-registry needs version " + std::to_string(latest_schema_version()),
            *version < latest_schema_version() ? "Run course-registry migrate --db CONNINFO."
                                               : "Use the newer course-registry that migrated it.");
    }
    return db;
}

int cmd_module_add(const std::string& conninfo, const std::string& file)
{
    std::ifstream in(file, std::ios::binary);
    if (!in) {
        return report_failure(Status::error(err::invalid_config, "cannot read " + file));
    }
    std::stringstream text;
    text << in.rdbuf();
    nlohmann::json module_json = nlohmann::json::parse(text.str(), nullptr, false);
    if (module_json.is_discarded()) {
        return report_failure(Status::error(err::invalid_config, file + " is not JSON",
                                            "It holds the `module` object of a device config."));
    }
    auto db = open_current(conninfo);
    if (!db) return report_failure(db.status());
    auto added = add_edition(*db, module_json, system_zone);
    if (!added) return report_failure(added.status());
    std::cout << (added->replaced ? "Updated module edition " : "Added module edition ")
              << added->module_id << "\n";
    return kExitOk;
}

}  // namespace

int main(int argc, char** argv)
{
    CLI::App app{"course-registry: the central registry of course-kiosk devices"};
    app.require_subcommand(1);
    app.set_version_flag("--version", std::string("course-registry ") + COURSE_KIOSK_VERSION);
    std::string conninfo = default_conninfo();
    auto db_option = [&conninfo](CLI::App* cmd) {
        cmd->add_option("--db", conninfo,
                        "libpq connection string or URI (default: $COURSE_REGISTRY_DB, else "
                        "postgresql:///course_registry)");
    };

    auto* version_cmd = app.add_subcommand("version", "Print the version");
    auto* migrate_cmd = app.add_subcommand("migrate", "Create or upgrade the database schema");
    db_option(migrate_cmd);

    auto* module_cmd = app.add_subcommand("module", "Manage module editions");
    module_cmd->require_subcommand(1);
    std::string module_file;
    auto* module_add_cmd = module_cmd->add_subcommand(
        "add", "Add a module edition (the `module` object of a device config), or update it");
    db_option(module_add_cmd);
    module_add_cmd->add_option("FILE", module_file, "FILE.json")->required();

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        int code = app.exit(e);  // prints the help, the version or the usage error
        return code == 0 ? kExitOk : kExitUsage;
    }
    if (*version_cmd) {
        std::cout << "course-registry " << COURSE_KIOSK_VERSION << "\n";
        return kExitOk;
    }
    if (*migrate_cmd) return cmd_migrate(conninfo);
    if (*module_add_cmd) return cmd_module_add(conninfo, module_file);
    return kExitFailure;
}

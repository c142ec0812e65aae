// course-registry: the organiser's central server's command line (SPEC section 9).
#include <date/tz.h>

#include <CLI/CLI.hpp>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/demo.hpp"
#include "cli/registry_cli.hpp"
#include "db/migrations.hpp"
#include "db/pg.hpp"
#include "model/badges.hpp"
#include "model/devices.hpp"
#include "model/editions.hpp"
#include "model/progress_summaries.hpp"
#include "model/rosters.hpp"
#include "model/staff.hpp"

namespace {

using namespace ck;
using namespace ck::registry;

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

int cmd_roster_import(const std::string& conninfo, const std::string& module_id,
                      const std::string& file)
{
    std::ifstream in(file, std::ios::binary);
    if (!in) return report_failure(Status::error(err::not_found, "cannot read " + file));
    std::stringstream text;
    text << in.rdbuf();
    auto db = open_current(conninfo);
    if (!db) return report_failure(db.status());
    auto import = import_roster(*db, module_id, file, text.str());
    if (!import) return report_failure(import.status());
    for (const auto& problem : import->rejected) {
        std::cerr << file << ":" << problem.line << ": rejected"
                  << (problem.id.empty() ? "" : " " + problem.id) << ": " << problem.message << " ["
                  << problem.code << "]\n";
    }
    std::cout << "Imported " << import->accepted.size() << " of " << import->rows_total
              << " rows into " << module_id << " (" << import->rejected.size() << " rejected)\n";
    return import->rejected.empty() ? kExitOk : kExitFailure;
}

int cmd_device_add(const std::string& conninfo, const std::string& device_id,
                   const std::string& module_id)
{
    auto db = open_current(conninfo);
    if (!db) return report_failure(db.status());
    auto token = add_device(*db, device_id, module_id);
    if (!token) return report_failure(token.status());
    std::cout << *token << "\n";  // alone, so that `> token` makes the device's token_file
    return kExitOk;
}

int cmd_device_revoke(const std::string& conninfo, const std::string& device_id)
{
    auto db = open_current(conninfo);
    if (!db) return report_failure(db.status());
    if (Status s = revoke_device(*db, device_id); !s) return report_failure(s);
    std::cout << "Revoked the token of device " << device_id << "\n";
    return kExitOk;
}

// One JSON object per attendee and line; all attendees the registry knows without ids.
// With --verify: the summaries those lines come from, checked against the events.
int cmd_progress(const std::string& conninfo, const std::vector<std::string>& ids, bool verify)
{
    auto db = open_current(conninfo);
    if (!db) return report_failure(db.status());
    if (verify) {
        auto check = verify_summaries(*db, ids, system_zone);
        if (!check) return report_failure(check.status());
        for (const std::string& id : check->differ) {
            std::cerr << "course-registry: the progress summary of " << id
                      << " is not what its events give\n";
        }
        std::cout << "Checked " << check->checked << " attendee(s): " << check->differ.size()
                  << " differ from their events, " << check->stale << " wait to be refreshed\n";
        return check->differ.empty() ? kExitOk : kExitFailure;
    }
    ProgressSummaries summaries(system_zone);
    int status = kExitOk;
    for (const std::string& id : ids) {
        auto progress = summaries.progress_json(*db, id);
        if (!progress) {
            status = report_failure(progress.status());
            continue;
        }
        std::cout << *progress << "\n";
    }
    if (!ids.empty()) return status;
    auto cursor = summaries.open_list(*db, {});
    if (!cursor) return report_failure(cursor.status());
    for (;;) {
        auto rows = cursor->fetch(1000);
        if (!rows) return report_failure(rows.status());
        if (rows->count() == 0) break;
        for (int r = 0; r < rows->count(); ++r) std::cout << rows->text(r, 0) << "\n";
    }
    if (Status s = cursor->close(); !s) return report_failure(s);
    return kExitOk;
}

int cmd_export(const std::string& conninfo, const std::string& format, const std::string& module_id,
               const std::string& separator)
{
    auto db = open_current(conninfo);
    if (!db) return report_failure(db.status());
    ProgressSummaries summaries(system_zone);
    auto cursor = summaries.open_export(*db, module_id);
    if (!cursor) return report_failure(cursor.status());
    const char sep = separator == "," ? ',' : ';';
    std::cout << (format == "json" ? "{\"rows\": [" : export_csv_head(sep));
    bool first = true;
    for (;;) {
        auto rows = cursor->fetch(1000);
        if (!rows) return report_failure(rows.status());
        if (rows->count() == 0) break;
        for (int r = 0; r < rows->count(); ++r) {
            const nlohmann::json row = export_row(*rows, r);
            if (format == "json") {
                std::cout << (first ? "\n  " : ",\n  ")
                          << row.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
            } else {
                std::cout << export_csv_line(row, sep);
            }
            first = false;
        }
    }
    if (format == "json") std::cout << "\n]}\n";
    if (Status s = cursor->close(); !s) return report_failure(s);
    return kExitOk;
}

int cmd_key(const std::string& conninfo, const std::string& action, const std::string& key_text)
{
    auto db = open_current(conninfo);
    if (!db) return report_failure(db.status());
    if (action == "rotate") {
        auto key = rotate_key(*db);
        if (!key) return report_failure(key.status());
        std::cout << "New badge-signing key " << key_id_hex(key->key_id)
                  << "; badges are signed with it from now on\n";
        return kExitOk;
    }
    if (action == "retire") {
        auto key_id = parse_key_id_hex(key_text);
        if (!key_id) {
            std::cerr << "course-registry: KEY_ID is 8 hex digits, as key list shows\n";
            return kExitUsage;
        }
        if (Status s = retire_key(*db, *key_id); !s) return report_failure(s);
        std::cout << "Retired key " << key_text
                  << ": devices refuse its badges once they pull the roster\n";
        return kExitOk;
    }
    auto keys = list_keys(*db);
    if (!keys) return report_failure(keys.status());
    for (const auto& k : *keys) {
        std::cout << key_id_hex(k.key_id) << "  " << k.public_key_base64 << "  created "
                  << k.created_at
                  << (k.retired_at.empty() ? std::string("  trusted") : "  retired " + k.retired_at)
                  << "\n";
    }
    return kExitOk;
}

int cmd_badges(const std::string& conninfo, const std::string& module_id,
               const std::vector<std::string>& ids, const std::string& out_file)
{
    auto db = open_current(conninfo);
    if (!db) return report_failure(db.status());
    auto html = badge_sheet(*db, module_id, ids, system_zone);
    if (!html) return report_failure(html.status());
    std::ofstream out(out_file, std::ios::binary | std::ios::trunc);
    out << *html;
    out.close();
    if (!out) return report_failure(Status::error(err::storage_error, "cannot write " + out_file));
    std::cout << "Wrote the badges of " << module_id << " to " << out_file << "\n";
    return kExitOk;
}

int cmd_badge_reissue(const std::string& conninfo, const std::string& module_id,
                      const std::string& attendee_id, const std::string& reason)
{
    auto db = open_current(conninfo);
    if (!db) return report_failure(db.status());
    auto issue = reissue_badge(*db, module_id, attendee_id, reason);
    if (!issue) return report_failure(issue.status());
    std::cout << "Badge " << attendee_id << " of " << module_id << " is now issue " << *issue
              << "; issue " << (*issue - 1)
              << " is revoked once the devices pull the roster. Print it with: "
                 "course-registry badges "
              << module_id << " " << attendee_id << " --out FILE.html\n";
    return kExitOk;
}

int cmd_staff_add(const std::string& conninfo, const std::string& username)
{
    // The password comes from standard input, never from an argument (which `ps` shows).
    std::string password;
    std::getline(std::cin, password);
    if (!password.empty() && password.back() == '\r') password.pop_back();
    auto db = open_current(conninfo);
    if (!db) return report_failure(db.status());
    bool replaced = false;
    if (Status s = put_staff(*db, username, password, replaced); !s) {
        if (s.code() == "weak_password") {
            return report_failure(Status::error(err::weak_password, s.message(),
                                                "Pipe it in: printf '%s\\n' \"$PASSWORD\" | "
                                                "course-registry staff add NAME"));
        }
        return report_failure(s);
    }
    std::cout << (replaced ? "Set a new password for " : "Added staff account ") << username
              << (replaced ? " (its sessions ended)" : "") << "\n";
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
    auto* serve_cmd =
        app.add_subcommand("serve", "Serve the device protocol (migrates the database first)");
    db_option(serve_cmd);
    std::string listen = kDefaultListen;
    serve_cmd->add_option("--listen", listen,
                          std::string("HOST:PORT to listen on (default ") + kDefaultListen + ")");
    bool demo = false;
    std::string demo_dir = kDefaultDemoDir;
    serve_cmd->add_flag("--demo", demo,
                        "A demo needing nothing else: its own PostgreSQL cluster in --data, "
                        "the four modules of a cycle, attendees, a staff account, a device token");
    serve_cmd->add_option("--data", demo_dir,
                          std::string("With --demo: where its cluster and files are (default ") +
                              kDefaultDemoDir + ")");
    auto* migrate_cmd = app.add_subcommand("migrate", "Create or upgrade the database schema");
    db_option(migrate_cmd);

    auto* module_cmd = app.add_subcommand("module", "Manage module editions");
    module_cmd->require_subcommand(1);
    std::string module_file;
    auto* module_add_cmd = module_cmd->add_subcommand(
        "add", "Add a module edition (the `module` object of a device config), or update it");
    db_option(module_add_cmd);
    module_add_cmd->add_option("FILE", module_file, "FILE.json")->required();

    auto* roster_cmd = app.add_subcommand("roster", "Manage rosters");
    roster_cmd->require_subcommand(1);
    std::string module_id;
    std::string roster_file;
    auto* roster_import_cmd = roster_cmd->add_subcommand(
        "import", "Import a module edition's attendees (CSV or JSON, as on the device)");
    db_option(roster_import_cmd);
    roster_import_cmd->add_option("MODULE_ID", module_id, "Module edition")->required();
    roster_import_cmd->add_option("FILE", roster_file, "FILE.csv or FILE.json")->required();

    auto* device_cmd = app.add_subcommand("device", "Manage devices and their tokens");
    device_cmd->require_subcommand(1);
    std::string device_id;
    auto* device_add_cmd = device_cmd->add_subcommand(
        "add", "Add a device of a module edition (prints its token, once)");
    db_option(device_add_cmd);
    device_add_cmd->add_option("DEVICE_ID", device_id, "The device's config device_id")->required();
    device_add_cmd->add_option("--module", module_id, "Module edition")->required();
    auto* device_revoke_cmd = device_cmd->add_subcommand("revoke", "Revoke a device's token");
    db_option(device_revoke_cmd);
    device_revoke_cmd->add_option("DEVICE_ID", device_id, "Device")->required();

    auto* doctor_cmd = app.add_subcommand(
        "doctor", "Check the database, its schema, the accounts and the clocks (read-only)");
    db_option(doctor_cmd);

    auto* key_cmd = app.add_subcommand("key", "Manage the registry's badge-signing keys");
    key_cmd->require_subcommand(1);
    std::string key_text;
    auto* key_rotate_cmd = key_cmd->add_subcommand(
        "rotate", "Make a new key to sign badges with (older keys stay trusted)");
    db_option(key_rotate_cmd);
    auto* key_retire_cmd =
        key_cmd->add_subcommand("retire", "Stop trusting a key (its badges are refused)");
    db_option(key_retire_cmd);
    key_retire_cmd->add_option("KEY_ID", key_text, "8 hex digits")->required();
    auto* key_list_cmd = key_cmd->add_subcommand("list", "List the keys");
    db_option(key_list_cmd);

    auto* staff_cmd = app.add_subcommand("staff", "Manage the office's staff accounts");
    staff_cmd->require_subcommand(1);
    std::string staff_name;
    auto* staff_add_cmd = staff_cmd->add_subcommand(
        "add", "Add a staff account, or set its password (the password on standard input)");
    db_option(staff_add_cmd);
    staff_add_cmd->add_option("NAME", staff_name, "User name")->required();

    std::vector<std::string> badge_ids;
    std::string badges_out;
    auto* badges_cmd = app.add_subcommand(
        "badges", "Print an edition's badges (A4 HTML, 8 per page), signed by the registry");
    db_option(badges_cmd);
    badges_cmd->add_option("MODULE_ID", module_id, "Module edition")->required();
    badges_cmd->add_option("ATTENDEE_ID", badge_ids, "Only these attendees (default: all)");
    badges_cmd->add_option("--out", badges_out, "FILE.html")->required();
    auto* badge_cmd = app.add_subcommand("badge", "Manage one attendee's badge");
    badge_cmd->require_subcommand(1);
    std::string reissue_attendee;
    std::string reissue_reason;
    auto* badge_reissue_cmd = badge_cmd->add_subcommand(
        "reissue", "Revoke an attendee's badge of an edition and issue the next one");
    db_option(badge_reissue_cmd);
    badge_reissue_cmd->add_option("MODULE_ID", module_id, "Module edition")->required();
    badge_reissue_cmd->add_option("ATTENDEE_ID", reissue_attendee, "Attendee")->required();
    badge_reissue_cmd->add_option("--reason", reissue_reason, "Why (shown to staff)");

    std::vector<std::string> attendee_args;
    auto* progress_cmd = app.add_subcommand(
        "progress", "Print attendees' modules and cycle state, one JSON object per line");
    db_option(progress_cmd);
    progress_cmd->add_option("ATTENDEE_ID", attendee_args, "Attendees (default: all)");
    bool progress_verify = false;
    progress_cmd->add_flag("--verify", progress_verify,
                           "Check the stored summaries against the events (exit 1 if any differ)");
    std::string export_format;
    std::string export_module;
    std::string export_separator = ";";
    auto* export_cmd = app.add_subcommand(
        "export", "Print one row per attendee and edition (CSV for spreadsheets, or JSON)");
    db_option(export_cmd);
    export_cmd->add_option("--format", export_format, "csv or json")
        ->required()
        ->check(CLI::IsMember({"csv", "json"}));
    export_cmd->add_option("--module", export_module, "Only this module edition");
    export_cmd
        ->add_option("--separator", export_separator,
                     "CSV: ';' (default; decimal comma, as Excel in most of Europe) or ','")
        ->check(CLI::IsMember({";", ","}));

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
    if (*serve_cmd && !demo && serve_cmd->count("--data") > 0) {
        std::cerr << "course-registry: --data goes with --demo; a registry's data is in "
                     "PostgreSQL (--db)\n";
        return kExitUsage;
    }
    if (*serve_cmd) return demo ? cmd_serve_demo(demo_dir, listen) : cmd_serve(conninfo, listen);
    if (*doctor_cmd) return cmd_doctor(conninfo);
    if (*migrate_cmd) return cmd_migrate(conninfo);
    if (*module_add_cmd) return cmd_module_add(conninfo, module_file);
    if (*roster_import_cmd) return cmd_roster_import(conninfo, module_id, roster_file);
    if (*device_add_cmd) return cmd_device_add(conninfo, device_id, module_id);
    if (*device_revoke_cmd) return cmd_device_revoke(conninfo, device_id);
    if (*progress_cmd) return cmd_progress(conninfo, attendee_args, progress_verify);
    if (*staff_add_cmd) return cmd_staff_add(conninfo, staff_name);
    if (*key_rotate_cmd) return cmd_key(conninfo, "rotate", key_text);
    if (*key_retire_cmd) return cmd_key(conninfo, "retire", key_text);
    if (*key_list_cmd) return cmd_key(conninfo, "list", key_text);
    if (*badges_cmd) return cmd_badges(conninfo, module_id, badge_ids, badges_out);
    if (*badge_reissue_cmd) {
        return cmd_badge_reissue(conninfo, module_id, reissue_attendee, reissue_reason);
    }
    if (*export_cmd) return cmd_export(conninfo, export_format, export_module, export_separator);
    return kExitFailure;
}

// course-kiosk: the command line (SPEC section 4).
#include <CLI/CLI.hpp>
#include <iostream>

#include "cli/commands.hpp"

int main(int argc, char** argv)
{
    using namespace ck;
    CLI::App app{"course-kiosk: QR-code attendance for course modules"};
    app.require_subcommand(1);
    app.set_version_flag("--version", std::string("course-kiosk ") + COURSE_KIOSK_VERSION);

    ServeOptions serve;
    auto* serve_cmd = app.add_subcommand("serve", "Run the kiosk server");
    serve_cmd->add_option("--data", serve.data_dir, "Data directory (demo: ./kiosk-data)");
    serve_cmd->add_option("--config", serve.config_path, "Config file (default DATA/config.json)");
    serve_cmd->add_option("--listen", serve.listen, "HOST:PORT (default from the config)");
    serve_cmd->add_option("--web-dir", serve.web_dir,
                          "Serve pages from this directory instead of the embedded ones "
                          "(development)");
    serve_cmd->add_flag("--demo", serve.demo, "Create or reuse a demo module and serve it");

    std::string data_dir;
    std::string config_path;
    auto* init_cmd = app.add_subcommand("init", "Create a data directory from a config file");
    init_cmd->add_option("--data", data_dir, "Data directory")->required();
    init_cmd->add_option("--config", config_path, "Config file")->required();

    auto* roster_cmd = app.add_subcommand("roster", "Manage the roster");
    roster_cmd->require_subcommand(1);
    std::string roster_file;
    auto* import_cmd = roster_cmd->add_subcommand("import", "Import attendees (CSV or JSON)");
    import_cmd->add_option("--data", data_dir, "Data directory")->required();
    import_cmd->add_option("FILE", roster_file, "FILE.csv or FILE.json")->required();

    bool svg = false;
    bool reissue = false;
    std::vector<std::string> ids;
    auto* credential_cmd =
        app.add_subcommand("credential", "Print attendees' credentials (ID<TAB>QR_TEXT)");
    credential_cmd->add_option("--data", data_dir, "Data directory")->required();
    credential_cmd->add_flag("--svg", svg, "Print the QR code as SVG instead (one attendee)");
    credential_cmd->add_flag("--reissue", reissue,
                             "Replace the attendees' badges: the old ones are revoked");
    credential_cmd->add_option("ATTENDEE_ID", ids, "Attendee ids (default: everyone)");

    auto* staff_cmd = app.add_subcommand("staff", "Manage staff accounts");
    staff_cmd->require_subcommand(1);
    std::string staff_name;
    auto* staff_add_cmd = staff_cmd->add_subcommand(
        "add", "Create a staff account, or reset its password (read from standard input)");
    staff_add_cmd->add_option("--data", data_dir, "Data directory")->required();
    staff_add_cmd->add_option("NAME", staff_name, "Login name")->required();
    std::string staff_role;
    staff_add_cmd
        ->add_option("--role", staff_role,
                     "admin (manages staff accounts; the default for a new account) or staff; "
                     "for an existing account, its role is kept unless given")
        ->check(CLI::IsMember({"admin", "staff"}));

    std::string out_path;
    auto* badges_cmd = app.add_subcommand("badges", "Write the printable A4 badge sheet");
    badges_cmd->add_option("--data", data_dir, "Data directory")->required();
    badges_cmd->add_option("--out", out_path, "FILE.html")->required();

    std::string format;
    auto* export_cmd = app.add_subcommand("export", "Print the attendance export");
    export_cmd->add_option("--data", data_dir, "Data directory")->required();
    export_cmd->add_option("--format", format, "csv or json")
        ->required()
        ->check(CLI::IsMember({"csv", "json"}));

    bool once = false;
    auto* sync_cmd = app.add_subcommand("sync", "Send the event outbox to the registry");
    sync_cmd->add_option("--data", data_dir, "Data directory")->required();
    sync_cmd->add_flag("--once", once, "One pass, then exit (the server syncs by itself)")
        ->required();

    std::string doctor_data = "/var/lib/course-kiosk";
    auto* doctor_cmd = app.add_subcommand(
        "doctor", "Check config, data directory, disk, store, clock, server and registry");
    doctor_cmd->add_option("--data", doctor_data, "Data directory")->capture_default_str();
    doctor_cmd->add_option("--config", config_path,
                           "Config file (default /etc/course-kiosk/config.json, else "
                           "DATA/config.json)");

    auto* routes_cmd =
        app.add_subcommand("routes", "Print the HTTP route table as JSON (for tools and tests)");

    auto* version_cmd = app.add_subcommand("version", "Print the version");

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        int code = app.exit(e);
        return code == 0 ? kExitOk : kExitUsage;
    }

    if (*version_cmd) {
        std::cout << "course-kiosk " << COURSE_KIOSK_VERSION << "\n";
        return kExitOk;
    }
    if (*serve_cmd) return cmd_serve(serve);
    if (*routes_cmd) return cmd_routes();
    if (*init_cmd) return cmd_init(data_dir, config_path);
    if (*import_cmd) return cmd_roster_import(data_dir, roster_file);
    if (*credential_cmd) return cmd_credential(data_dir, svg, reissue, ids);
    if (*sync_cmd) return cmd_sync_once(data_dir);
    if (*doctor_cmd) return cmd_doctor(doctor_data, config_path);
    if (*staff_add_cmd) return cmd_staff_add(data_dir, staff_name, staff_role);
    if (*badges_cmd) return cmd_badges(data_dir, out_path);
    if (*export_cmd) return cmd_export(data_dir, format);
    return kExitUsage;
}

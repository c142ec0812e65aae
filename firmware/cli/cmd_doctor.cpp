// `course-kiosk doctor`: is this device ready for a module day? One line per check,
//   ok    config     /etc/course-kiosk/config.json: ecnr-2026-2-m3 in Lille, 10 sessions ...
// with "ok", "warn" or "fail", and exit code 1 when any check failed. Read-only: it opens
// the store beside a running server (LMDB allows that) and changes nothing.
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <iomanip>
#include <iostream>
#include <sstream>

#include "app/clock.hpp"
#include "app/config.hpp"
#include "app/files.hpp"
#include "app/phone_address.hpp"
#include "cli/commands.hpp"
#include "http/server.hpp"
#include "store/store.hpp"
#include "sync/registry_client.hpp"

namespace ck {
namespace {

enum class Level { ok, warn, fail, skip };

struct Check {
    Level level;
    std::string text;
};

std::string mib(std::uint64_t bytes)
{
    std::ostringstream out;
    if (bytes >= (std::uint64_t{10} << 30)) {
        out << bytes / (std::uint64_t{1} << 30) << " GiB";
    } else {
        out << std::fixed << std::setprecision(bytes < (std::uint64_t{10} << 20) ? 1 : 0)
            << static_cast<double>(bytes) / (1 << 20) << " MiB";
    }
    return out.str();
}

std::string octal(unsigned mode)
{
    std::ostringstream out;
    out << std::oct << std::setw(4) << std::setfill('0') << (mode & 07777);
    return out.str();
}

Check check_config(const std::string& path, const Result<Config>& config)
{
    if (!config) return {Level::fail, path + ": " + config.status().message()};
    const ModuleEdition& module = config->module;
    std::string days = module.days.empty() ? std::string("no days")
                                           : module.days.front().date_text() + " to " +
                                                 module.days.back().date_text();
    return {Level::ok, path + ": " + module.id() + " in " + module.venue + ", " +
                           std::to_string(module.session_count()) + " sessions, " + days};
}

// The data directory and its secrets: present, writable by us, secrets private.
Check check_data_dir(const std::string& dir)
{
    struct stat st {};
    if (stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
        return {Level::fail, dir + " does not exist (the service creates it on first start)"};
    }
    if (access(dir.c_str(), R_OK | W_OK | X_OK) != 0) {
        return {Level::fail, dir + " is not writable by this user (run as course-kiosk)"};
    }
    if ((st.st_mode & S_IWOTH) != 0) {
        return {Level::fail,
                dir + " is writable by everyone (mode " + octal(st.st_mode) + "); chmod 0750 it"};
    }
    for (const char* secret : {"/keys/signing-key.pem", "/keys/display-secret"}) {
        struct stat sst {};
        std::string file = dir + secret;
        if (stat(file.c_str(), &sst) != 0) continue;  // made on first start
        if ((sst.st_mode & 077) != 0) {
            return {Level::fail, file + " is readable by others (mode " + octal(sst.st_mode) +
                                     "); chmod 0600 it"};
        }
    }
    return {Level::ok, dir + " (mode " + octal(st.st_mode) + "), secrets private"};
}

Check check_disk(const std::string& dir)
{
    struct statvfs fs {};
    if (statvfs(dir.c_str(), &fs) != 0) return {Level::fail, "cannot read free space of " + dir};
    std::uint64_t free_bytes = std::uint64_t{fs.f_bavail} * fs.f_frsize;
    std::string text = mib(free_bytes) + " free on " + dir;
    if (free_bytes < (std::uint64_t{32} << 20)) {
        return {Level::fail, text + "; check-ins will be refused soon: free some space"};
    }
    if (free_bytes < (std::uint64_t{256} << 20)) return {Level::warn, text + "; getting low"};
    return {Level::ok, text};
}

Check check_store(const std::string& dir)
{
    std::string store_path = dir + "/store";
    if (!path_exists(store_path)) {
        return {Level::fail, "no store in " + dir + " (the service creates it on first start)"};
    }
    auto store = Store::open({store_path});
    if (!store) return {Level::fail, store.status().message()};
    double used = static_cast<double>((*store)->used_bytes());
    double size = static_cast<double>((*store)->map_size());
    int percent = static_cast<int>(100 * used / size);
    std::uint64_t backlog = (*store)->last_seq() - (*store)->acked_through();
    std::string text = "map " + std::to_string(percent) + "% used (" + mib((*store)->used_bytes()) +
                       " of " + mib((*store)->map_size()) + "), " +
                       std::to_string((*store)->attendee_count()) + " attendees, " +
                       std::to_string((*store)->checkin_count()) + " check-ins, " +
                       std::to_string(backlog) + " events not yet at the registry";
    if (percent >= 95) return {Level::fail, text};
    if (percent >= 80) return {Level::warn, text};
    return {Level::ok, text};
}

// The running server, asked on its own port: is it up, and does it trust its clock?
struct ServerState {
    Check server;
    Check clock;
};

ServerState check_server(const Config& config)
{
    auto listen = parse_listen(config.listen);
    if (!listen)
        return {{Level::fail, "listen address \"" + config.listen + "\" is malformed"},
                {Level::skip, ""}};
    std::string host = listen->host == "0.0.0.0" ? "127.0.0.1" : listen->host;
    httplib::Client client(host, listen->port);
    client.set_connection_timeout(3);
    client.set_read_timeout(5);
    std::string where = host + ":" + std::to_string(listen->port);
    auto res = client.Get("/healthz");
    if (!res || res->status != 200) {
        Check clock = system_clock_synchronised()
                          ? Check{Level::ok, "system clock synchronised (NTP)"}
                          : Check{Level::warn,
                                  "system clock not synchronised; once the server runs, set "
                                  "it from the staff dashboard"};
        return {{Level::fail, "not answering on " + where +
                                  " (systemctl status course-kiosk; journalctl -u course-kiosk)"},
                clock};
    }
    auto body = nlohmann::json::parse(res->body, nullptr, false);
    std::string module_id = body.value("module_id", "");
    std::string time = body.value("time", "");
    std::string source = body.value("clock_source", "");
    bool trusted = body.value("clock_trusted", false);
    int held = body.value("held_checkins", 0);
    Check server{Level::ok, "answering on " + where + ", serving " + module_id};
    if (module_id != config.module.id()) {
        server = {Level::fail, "the server on " + where + " serves " + module_id + ", not " +
                                   config.module.id() + " (restart it)"};
    }
    Check clock = trusted ? Check{Level::ok, time + ", trusted (" + source + ")"}
                          : Check{Level::warn, time +
                                                   ", NOT trusted: set it from the staff "
                                                   "dashboard before check-in opens"};
    if (held > 0) {
        clock.level = Level::warn;
        clock.text += "; " + std::to_string(held) +
                      " check-ins held (staff file them on the dashboard's Sync tab)";
    }
    return {server, clock};
}

// Where the display's QR code sends phones (app/phone_address.hpp, as the display itself
// decides): a device no phone can reach is not ready, even though badges still work.
Check check_phones(const Config& config)
{
    auto listen = parse_listen(config.listen);
    if (!listen) return {Level::skip, "see the server line"};
    PhoneAddress phone =
        choose_phone_address(config.public_url, listen->host, listen->port, interface_addresses());
    if (phone.base_url.empty()) return {Level::fail, phone.problem};
    std::string text = "the display's QR code sends phones to " + phone.base_url;
    if (phone.source == "public_url") {
        if (is_loopback_host(host_of_url(phone.base_url))) {
            return {Level::fail, "public_url " + phone.base_url +
                                     " is this device's loopback address: no phone can open "
                                     "it; set it to an address on the venue network"};
        }
        return {Level::ok, text + " (public_url)"};
    }
    if (phone.source == "interface") {
        return {Level::ok, text + " (the address of " + phone.interface +
                               "; set public_url to choose another)"};
    }
    return {Level::ok, text + " (the listening address)"};
}

Check check_registry(const Config& config)
{
    if (!config.registry) return {Level::skip, "not configured (the device works standalone)"};
    const RegistryConfig& registry = *config.registry;
    if (!registry.token_file.empty() && !read_file(registry.token_file)) {
        return {Level::fail, "cannot read the token file " + registry.token_file};
    }
    RegistryClient client(registry, std::chrono::seconds(registry.timeout_s));
    RegistryReply reply = client.get_roster(config.module.id(), "");
    std::string where = registry.url;
    if (reply.status == 0) return {Level::fail, where + ": " + reply.transport_error};
    std::string rtt = " in " + std::to_string(reply.round_trip.count()) + " ms";
    if (reply.status == 200 || reply.status == 304) {
        return {Level::ok, where + " answers" + rtt};
    }
    if (reply.status == 401 || reply.status == 403) {
        return {Level::fail, where + " refuses the token (HTTP " + std::to_string(reply.status) +
                                 "); check " + registry.token_file};
    }
    return {Level::warn, where + " answered HTTP " + std::to_string(reply.status) + rtt};
}

void print(const char* name, const Check& check, bool& failed)
{
    static const char* labels[] = {"ok", "warn", "FAIL", "skip"};
    std::cout << std::left << std::setw(6) << labels[static_cast<int>(check.level)] << std::setw(10)
              << name << check.text << "\n";
    if (check.level == Level::fail) failed = true;
}

}  // namespace

int cmd_doctor(const std::string& data_dir, std::string config_path)
{
    if (config_path.empty()) {
        // The installed service reads /etc/course-kiosk/config.json; a hand-made data
        // directory has its own copy.
        config_path = path_exists("/etc/course-kiosk/config.json") ? "/etc/course-kiosk/config.json"
                                                                   : data_dir + "/config.json";
    }
    bool failed = false;
    auto config = load_config_file(config_path, lookup_system_zone);
    print("config", check_config(config_path, config), failed);
    print("data", check_data_dir(data_dir), failed);
    print("disk", check_disk(data_dir), failed);
    print("store", check_store(data_dir), failed);
    if (config) {
        ServerState state = check_server(*config);
        print("server", state.server, failed);
        print("clock", state.clock, failed);
        print("phones", check_phones(*config), failed);
        print("registry", check_registry(*config), failed);
    }
    std::cout << (failed ? "Something needs attention (FAIL above)." : "Ready.") << std::endl;
    return failed ? kExitFailure : kExitOk;
}

}  // namespace ck

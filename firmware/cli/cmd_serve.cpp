#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <sstream>
#include <thread>

#include "app/checkin_service.hpp"
#include "app/device.hpp"
#include "app/module_closer.hpp"
#include "cli/commands.hpp"
#include "cli/demo.hpp"
#include "cli/service_notify.hpp"
#include "http/routes.hpp"
#include "http/server.hpp"
#include "log/log.hpp"
#include "sync/outbox_relay.hpp"

namespace ck {

int cmd_routes()
{
    nlohmann::json routes = nlohmann::json::array();
    for (const auto& r : route_table()) {
        routes.push_back({{"method", r.method},
                          {"pattern", r.pattern},
                          {"access", r.access == Access::open ? "open" : "staff"}});
    }
    std::cout << routes.dump(2) << "\n";
    return kExitOk;
}

namespace {

// glibc's malloc, tuned for a long-running server on a small board (bench/README.md):
// - a fixed mmap threshold above LMDB's per-transaction lists (2.5 MiB for each nested
//   write transaction, so each check-in) and below scrypt's 16 MiB: the lists are reused
//   from the heap instead of being mapped and unmapped (a TLB flush on every core) per
//   check-in, and a staff login's scrypt buffer goes back to the system when freed
//   (left alone, glibc raises the threshold after the first one and keeps it);
// - a trim threshold to match, so the heap does not shrink and grow around those lists;
// - two arenas: each of the many worker threads would otherwise get a chance at an
//   arena of its own, each keeping its freed memory.
void tune_malloc()
{
    mallopt(M_MMAP_THRESHOLD, 4 * 1024 * 1024);
    mallopt(M_TRIM_THRESHOLD, 8 * 1024 * 1024);
    mallopt(M_ARENA_MAX, 2);
}

// Each waiting connection holds a file descriptor (the event loop watches thousands of them,
// http/head_loop.hpp); the soft limit is often 1024. Raised to the hard limit (the unit sets
// it), at most 65536.
void raise_fd_limit()
{
    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
    const rlim_t wanted = std::min<rlim_t>(limit.rlim_max, 65536);
    if (limit.rlim_cur >= wanted) return;
    limit.rlim_cur = wanted;
    if (setrlimit(RLIMIT_NOFILE, &limit) != 0) {
        CK_WARN("serve", "cannot raise the open-file limit: " << std::strerror(errno));
    }
}

// The HTTP server's sizing, with overrides for measuring alternatives (bench/README.md):
// COURSE_KIOSK_HTTP_THREADS=MIN-MAX and COURSE_KIOSK_HTTP_KEEPALIVE_S=N.
Result<ServerOptions> server_options()
{
    ServerOptions options;
    if (const char* threads = std::getenv("COURSE_KIOSK_HTTP_THREADS"); threads && *threads) {
        unsigned long min = 0, max = 0;
        char dash = 0;
        std::istringstream in(threads);
        if (!(in >> min >> dash >> max) || dash != '-' || min == 0 || max < min || max > 4096) {
            return Status::error(err::malformed_request,
                                 "COURSE_KIOSK_HTTP_THREADS must be MIN-MAX, e.g. 4-256");
        }
        options.workers.min_threads = min;
        options.workers.max_threads = max;
    }
    if (const char* keep = std::getenv("COURSE_KIOSK_HTTP_KEEPALIVE_S"); keep && *keep) {
        char* end = nullptr;
        long seconds = std::strtol(keep, &end, 10);
        if (*end != '\0' || seconds < 0 || seconds > 300) {
            return Status::error(err::malformed_request,
                                 "COURSE_KIOSK_HTTP_KEEPALIVE_S must be 0 to 300 seconds");
        }
        options.keep_alive_seconds = static_cast<int>(seconds);
    }
    return options;
}

}  // namespace

int cmd_serve(ServeOptions options)
{
    tune_malloc();
    raise_fd_limit();
    // SIGINT/SIGTERM are taken with sigwait() below; blocked before any thread starts so
    // that no worker thread receives them.
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
    signal(SIGPIPE, SIG_IGN);

    if (options.demo) {
        if (options.data_dir.empty()) options.data_dir = "./kiosk-data";
        if (Status s = prepare_demo(options.data_dir, options.config_path); !s)
            return report_failure(s);
    }
    if (options.data_dir.empty()) options.data_dir = "/var/lib/course-kiosk";
    // An installed device: the package gives /etc/course-kiosk/config.json and an empty
    // data directory (systemd's StateDirectory). Each start (re)initialises the directory
    // from that config, so that the command-line tools see the config the server runs.
    if (!options.config_path.empty()) {
        bool first = !device_initialised(options.data_dir);
        if (Status s = init_device(options.data_dir, options.config_path); !s) {
            return report_failure(s);
        }
        if (first) {
            std::cout << "course-kiosk: initialised " << options.data_dir << " from "
                      << options.config_path << std::endl;
        }
    }

    auto opened = open_device(options.data_dir, options.config_path);
    if (!opened) return report_failure(opened.status());
    Device& device = **opened;
    // A demo runs on a laptop or in a container, whose clock is right but rarely
    // NTP-synchronised as the kernel sees it: it would hold every check-in. It trusts the
    // host's clock and says so; a real device never does.
    if (options.demo && !device.clock.trusted()) device.clock.trust_wall_clock("demo");
    // The parts, wired here and nowhere else: the check-in use case on the device, the
    // relay that delivers what the store commits, and the HTTP server that uses both.
    CheckinService checkins(device);
    OutboxRelay relay(device, checkins);
    device.store->on_events_committed([&relay] { relay.events_committed(); });
    struct Unhook {  // the relay goes before the store: unhook it on every way out
        Store& store;
        ~Unhook() { store.on_events_committed(nullptr); }
    } unhook{*device.store};
    HttpContext http(device, checkins, relay, options.web_dir);

    std::string listen_text = options.listen.empty() ? device.config.listen : options.listen;
    auto listen = parse_listen(listen_text);
    if (!listen) {
        std::cerr << "course-kiosk: --listen must be HOST:PORT, not \"" << listen_text << "\"\n";
        return kExitUsage;
    }
    auto sizing = server_options();
    if (!sizing) {
        std::cerr << "course-kiosk: " << sizing.status().message() << "\n";
        return kExitUsage;
    }
    auto server = make_server(http, *sizing);
    int port = listen->port;
    if (port == 0) {
        port = server->bind_to_any_port(listen->host);
    } else if (!server->bind_to_port(listen->host, port)) {
        port = -1;
    }
    if (port <= 0) {
        return report_failure(
            Status::error(err::storage_unavailable, "cannot listen on " + listen_text,
                          "Is another program using that port? Choose another with --listen."));
    }
    http.listening = {listen->host, port};  // before the first request: no thread reads it yet
    std::string url = "http://" +
                      (listen->host == "0.0.0.0" ? std::string("127.0.0.1") : listen->host) + ":" +
                      std::to_string(port);
    std::thread listener([&] { server->listen_after_bind(); });
    // httplib marks itself running only once listen_after_bind() has started, and a stop()
    // before that is lost: nobody is told the server is up (and so nobody can stop it)
    // until it runs. Bounded: a listener that fails at once leaves after 5 s.
    for (int i = 0; i < 5000 && !server->is_running(); ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    if (!server->is_running()) {
        server->stop();
        listener.join();
        return report_failure(Status::error(err::storage_unavailable, "cannot serve on " + url,
                                            "See the log; try another --listen address."));
    }
    std::cout << "course-kiosk " << COURSE_KIOSK_VERSION << ": serving "
              << device.config.module.id() << " from " << options.data_dir << "\n"
              << "course-kiosk: listening on " << url << std::endl;
    if (options.demo) print_demo_banner(device, url);

    ModuleCloser closer(device, checkins);
    relay.start();
    ServiceNotifier notifier([host = listen->host, port] { return answers_healthz(host, port); });
    notifier.ready("serving " + device.config.module.id() + " on " + url);
    int signal_number = 0;
    sigwait(&stop_signals, &signal_number);
    notifier.stopping();
    std::cout << "course-kiosk: stopping (signal " << signal_number << ")" << std::endl;
    server->stop();
    listener.join();
    return kExitOk;
}

}  // namespace ck

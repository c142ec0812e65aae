#include <date/tz.h>
#include <malloc.h>
#include <pthread.h>

#include <chrono>
#include <csignal>
#include <iostream>
#include <thread>

#include "api/server.hpp"
#include "cli/registry_cli.hpp"
#include "core/listen_address.hpp"
#include "db/migrations.hpp"
#include "db/pool.hpp"
#include "model/events.hpp"

namespace ck::registry {

namespace {

// Connections to PostgreSQL at most: each request holds one while it runs.
constexpr std::size_t kMaxConnections = 16;

}  // namespace

int report_failure(const Status& status)
{
    std::cerr << "course-registry: " << status.message();
    if (!status.hint().empty()) std::cerr << " (" << status.hint() << ")";
    std::cerr << "\n";
    return kExitFailure;
}

int cmd_serve(const std::string& conninfo, const std::string& listen_text,
              const std::function<void(const std::string& url)>& on_listening)
{
    // Two malloc arenas, not one per worker thread, each holding on to the batches it once
    // parsed: the RSS stays near what is in use (bench/run registry).
    mallopt(M_ARENA_MAX, 2);
    mallopt(M_TRIM_THRESHOLD, 1 << 20);
    // SIGINT/SIGTERM are taken with sigwait() below; blocked before any thread starts so
    // that no worker thread receives them.
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
    std::signal(SIGPIPE, SIG_IGN);

    auto listen = parse_listen(listen_text);
    if (!listen) {
        std::cerr << "course-registry: --listen must be HOST:PORT, not \"" << listen_text << "\"\n";
        return kExitUsage;
    }
    {
        auto db = Database::connect(conninfo);
        if (!db) return report_failure(db.status());
        auto migrated = migrate(*db);
        if (!migrated) return report_failure(migrated.status());
        if (migrated->from_version != migrated->to_version) {
            std::cout << "course-registry: migrated the schema from version "
                      << migrated->from_version << " to " << migrated->to_version << std::endl;
        }
    }
    const nlohmann::json schema = batch_schema();
    if (schema.is_null()) {
        return report_failure(
            Status::error(err::internal_error, "the batch schema is not in this binary"));
    }
    BatchParser batches(schema);
    ConnectionPool pool(conninfo, kMaxConnections);
    ZoneLookup zones = [](std::string_view name) -> const date::time_zone* {
        try {
            return date::locate_zone(name);
        } catch (const std::exception&) {
            return nullptr;
        }
    };
    ProgressSummaries summaries(zones);
    RegistryContext context(pool, batches, zones, summaries);
    ServerOptions options;
    // Room for one batch at the largest it may be decoded (32 MiB) and a few ordinary ones.
    options.max_body_bytes_in_flight = 40u << 20;
    auto server = make_registry_server(context, options);
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
    const std::string url = "http://" +
                            (listen->host == "0.0.0.0" ? std::string("127.0.0.1") : listen->host) +
                            ":" + std::to_string(port);
    std::thread listener([&] { server->listen_after_bind(); });
    // httplib marks itself running only once listen_after_bind() has started, and a stop()
    // before that is lost. Bounded: a listener that fails at once leaves after 5 s.
    for (int i = 0; i < 5000 && !server->is_running(); ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    if (!server->is_running()) {
        server->stop();
        listener.join();
        return report_failure(Status::error(err::storage_unavailable, "cannot serve on " + url));
    }
    // Summaries of attendees marked stale (new events, a migrated database) are built here,
    // so that the office's reads seldom have to (model/progress_summaries.hpp).
    std::jthread refresher(
        [&summaries, &pool](std::stop_token stop) { summaries.refresh_in_background(pool, stop); });
    std::cout << "course-registry " << COURSE_KIOSK_VERSION << ": serving the device protocol\n"
              << "course-registry: listening on " << url << std::endl;
    if (on_listening) on_listening(url);
    int signal_number = 0;
    sigwait(&stop_signals, &signal_number);
    std::cout << "course-registry: stopping (signal " << signal_number << ")" << std::endl;
    refresher.request_stop();
    refresher.join();
    server->stop();
    listener.join();
    return kExitOk;
}

}  // namespace ck::registry

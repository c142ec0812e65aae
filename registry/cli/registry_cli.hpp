// The course-registry subcommands that take more than a few lines (main.cpp has the rest).
#pragma once

#include <functional>
#include <string>

#include "core/status.hpp"

namespace ck::registry {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;

// Prints "course-registry: MESSAGE (HINT)" on standard error; returns kExitFailure.
int report_failure(const Status& status);

// Where `serve` listens without --listen: loopback, behind the organiser's TLS proxy.
inline constexpr const char* kDefaultListen = "127.0.0.1:8090";

// Where `serve --demo` keeps its PostgreSQL cluster and files without --data.
inline constexpr const char* kDefaultDemoDir = "./registry-data";

// `serve`: migrates the database (refusing a newer one), then serves the device protocol
// until SIGINT or SIGTERM. `on_listening` is called with the server's URL once it answers.
int cmd_serve(const std::string& conninfo, const std::string& listen,
              const std::function<void(const std::string& url)>& on_listening = {});

// `doctor`: the database, its schema, the records a registry needs, the clocks. Read-only.
int cmd_doctor(const std::string& conninfo);

}  // namespace ck::registry

// The course-registry subcommands that take more than a few lines (main.cpp has the rest).
#pragma once

#include <string>

namespace ck::registry {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;

// Where `serve` listens without --listen: loopback, behind the organiser's TLS proxy.
inline constexpr const char* kDefaultListen = "127.0.0.1:8090";

// `serve`: migrates the database (refusing a newer one), then serves the device protocol
// until SIGINT or SIGTERM.
int cmd_serve(const std::string& conninfo, const std::string& listen);

// `doctor`: the database, its schema, the records a registry needs, the clocks. Read-only.
int cmd_doctor(const std::string& conninfo);

}  // namespace ck::registry

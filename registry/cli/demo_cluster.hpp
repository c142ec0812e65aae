// The private PostgreSQL cluster of `course-registry serve --demo` (SPEC section 9): Debian's
// PostgreSQL 15 binaries run on a data directory of the demo's own, Unix socket only (no
// TCP port, no system service), as the `postgres` user when the registry runs as root
// (PostgreSQL refuses to run as root).
//
//   DIR/db/         the cluster (initdb), owned by whoever runs PostgreSQL
//   DIR/run/        its socket and its log (postgresql.log)
#pragma once

#include <string>
#include <vector>

#include "core/status.hpp"

namespace ck::registry {

class DemoCluster {
public:
    // `dir`: an absolute path. Nothing happens until start().
    explicit DemoCluster(std::string dir);

    // Makes the cluster if there is none (initdb), starts PostgreSQL unless it already runs
    // on it (a demo killed with -9 leaves it running: it is reused), and creates the
    // database `course_registry` if missing. Errors say what to install or change.
    Status start();
    // Stops PostgreSQL (fast: open connections are cut), if start() started or found it.
    Status stop();
    // Whether PostgreSQL runs on the cluster now (pg_ctl status).
    bool running() const;

    // libpq connection string of the demo's database.
    std::string conninfo() const;
    const std::string& dir() const { return dir_; }

private:
    Status run_pg(const std::string& tool, const std::vector<std::string>& args,
                  const std::string& what) const;

    std::string dir_;
    bool started_ = false;
};

}  // namespace ck::registry

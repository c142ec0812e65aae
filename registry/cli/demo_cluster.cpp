#include "cli/demo_cluster.hpp"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "db/pg.hpp"

namespace ck::registry {

namespace {

constexpr const char* kPgBin = "/usr/lib/postgresql/15/bin";
constexpr const char* kDatabase = "course_registry";
// A Unix socket's path is at most 107 bytes; PostgreSQL's is DIR/run/.s.PGSQL.5432.
constexpr std::size_t kMaxSocketPath = 107;

bool as_root() { return geteuid() == 0; }

// A value for a libpq connection string: quoted, with ' and \ escaped.
std::string conn_value(const std::string& value)
{
    std::string out = "'";
    for (char c : value) {
        if (c == '\'' || c == '\\') out += '\\';
        out += c;
    }
    return out + "'";
}

std::string read_text(const std::string& path)
{
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    std::string s = text.str();
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    return s;
}

// Runs argv (as `postgres` through runuser when root), its output into `output_file`;
// the exit status, or -1 when it could not be run.
int run(const std::vector<std::string>& argv, const std::string& output_file)
{
    std::vector<std::string> full;
    if (as_root()) full = {"runuser", "-u", "postgres", "--"};
    full.insert(full.end(), argv.begin(), argv.end());
    std::vector<char*> args;
    for (auto& a : full) args.push_back(a.data());
    args.push_back(nullptr);
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        int out = open(output_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (out >= 0) {
            dup2(out, STDOUT_FILENO);
            dup2(out, STDERR_FILENO);
        }
        if (null >= 0) dup2(null, STDIN_FILENO);
        execvp(args[0], args.data());
        _exit(127);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) return -1;
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace

DemoCluster::DemoCluster(std::string dir) : dir_(std::move(dir)) {}

std::string DemoCluster::conninfo() const
{
    return "host=" + conn_value(dir_ + "/run") + " dbname=" + kDatabase + " user=postgres";
}

Status DemoCluster::run_pg(const std::string& tool, const std::vector<std::string>& args,
                           const std::string& what) const
{
    std::vector<std::string> argv{std::string(kPgBin) + "/" + tool};
    argv.insert(argv.end(), args.begin(), args.end());
    const std::string output = dir_ + "/run/" + tool + ".out";
    int code = run(argv, output);
    if (code == 0) return Status::ok();
    std::string said = read_text(output);
    if (said.size() > 400) said = "..." + said.substr(said.size() - 400);
    return Status::error(
        err::storage_unavailable,
        "cannot " + what + " (" + tool + " exit " + std::to_string(code) +
            (said.empty() ? ")" : "): " + said),
        "See " + dir_ + "/run/postgresql.log; remove " + dir_ + " to start the demo afresh.");
}

bool DemoCluster::running() const
{
    return run({std::string(kPgBin) + "/pg_ctl", "-D", dir_ + "/db", "status"},
               dir_ + "/run/pg_ctl-status.out") == 0;
}

Status DemoCluster::start()
{
    namespace fs = std::filesystem;
    if (!fs::exists(std::string(kPgBin) + "/initdb")) {
        return Status::error(
            err::storage_unavailable,
            std::string("PostgreSQL 15 is not installed (no ") + kPgBin + "/initdb)",
            "apt-get install postgresql-15 (scripts/dev does)");
    }
    if (dir_.find_first_of("\"'\\$`") != std::string::npos) {
        return Status::error(err::malformed_request,
                             "the demo's directory may not contain quotes, $, ` or \\: " + dir_,
                             "Choose another --data directory.");
    }
    if ((dir_ + "/run/.s.PGSQL.5432").size() > kMaxSocketPath) {
        return Status::error(err::malformed_request,
                             "the demo's directory is too deep for PostgreSQL's socket: " + dir_,
                             "Use a shorter path with --data, e.g. /var/tmp/registry-data.");
    }
    std::error_code ec;
    fs::create_directories(dir_ + "/db", ec);
    if (!ec) fs::create_directories(dir_ + "/run", ec);
    if (ec) {
        return Status::error(err::storage_unavailable,
                             "cannot create " + dir_ + ": " + ec.message(),
                             "Choose another --data directory.");
    }
    if (as_root()) {
        const passwd* pg = getpwnam("postgres");
        if (pg == nullptr) {
            return Status::error(err::storage_unavailable, "there is no postgres user",
                                 "apt-get install postgresql-15 makes it.");
        }
        for (const char* sub : {"/db", "/run"}) {
            if (chown((dir_ + sub).c_str(), pg->pw_uid, pg->pw_gid) != 0) {
                return Status::error(err::storage_unavailable,
                                     "cannot hand " + dir_ + sub + " to the postgres user");
            }
        }
        if (run({"test", "-w", dir_ + "/db"}, dir_ + "/run/access.out") != 0) {
            return Status::error(
                err::storage_unavailable,
                "the postgres user cannot reach " + dir_ + " (a directory above it is private)",
                "PostgreSQL runs as postgres, not root: use --data in a directory it can "
                "reach, e.g. /var/tmp/registry-data.");
        }
    }
    if (!fs::exists(dir_ + "/db/PG_VERSION")) {
        if (Status s = run_pg("initdb",
                              {"-D", dir_ + "/db", "-A", "trust", "-U", "postgres", "-E", "UTF8",
                               "--locale=C.UTF-8"},
                              "make the demo's PostgreSQL cluster");
            !s) {
            return s;
        }
    }
    if (!running()) {
        if (Status s = run_pg(
                "pg_ctl",
                {"-D", dir_ + "/db", "-l", dir_ + "/run/postgresql.log", "-o",
                 "-k \"" + dir_ + "/run\" -c listen_addresses=''", "-w", "-t", "60", "start"},
                "start the demo's PostgreSQL");
            !s) {
            return s;
        }
    }
    started_ = true;
    auto admin =
        Database::connect("host=" + conn_value(dir_ + "/run") + " dbname=postgres user=postgres");
    if (!admin) return admin.status();
    auto exists =
        admin->exec("SELECT 1 FROM pg_database WHERE datname = $1", {std::string(kDatabase)});
    if (!exists) return exists.status();
    if (exists->count() == 0) {
        auto created = admin->exec(std::string("CREATE DATABASE ") + kDatabase);
        if (!created) return created.status();
    }
    return Status::ok();
}

Status DemoCluster::stop()
{
    if (!started_) return Status::ok();
    started_ = false;
    return run_pg("pg_ctl", {"-D", dir_ + "/db", "-m", "fast", "-w", "stop"},
                  "stop the demo's PostgreSQL");
}

}  // namespace ck::registry

#include "app/process_stats.hpp"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace ck {
namespace {

// Seconds since the epoch at which the system booted (/proc/stat's btime).
std::optional<std::uint64_t> boot_time()
{
    std::ifstream in("/proc/stat");
    std::string key;
    while (in >> key) {
        if (key == "btime") {
            std::uint64_t value = 0;
            if (in >> value) return value;
            return std::nullopt;
        }
        in.ignore(1 << 20, '\n');
    }
    return std::nullopt;
}

}  // namespace

std::optional<ProcessStats> read_process_stats()
{
    std::ifstream in("/proc/self/stat");
    std::string line;
    if (!std::getline(in, line)) return std::nullopt;
    // "pid (comm) state ppid ...": comm may hold spaces and parentheses; fields count from
    // the last ')'. After it come fields 3 (state) onwards.
    const auto close = line.rfind(')');
    if (close == std::string::npos) return std::nullopt;
    std::istringstream rest(line.substr(close + 1));
    std::vector<std::string> fields;
    for (std::string f; rest >> f;) fields.push_back(f);
    // fields[0] is field 3; utime 14, stime 15, starttime 22, vsize 23, rss 24.
    if (fields.size() < 22) return std::nullopt;
    const auto field = [&](int number) {
        return std::stoull(fields[static_cast<std::size_t>(number - 3)]);
    };
    const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
    const auto page = static_cast<std::uint64_t>(sysconf(_SC_PAGESIZE));
    ProcessStats stats;
    try {
        stats.cpu_seconds = static_cast<double>(field(14) + field(15)) / ticks;
        stats.virtual_bytes = field(23);
        stats.resident_bytes = field(24) * page;
        auto booted = boot_time();
        if (!booted) return std::nullopt;
        stats.start_time_seconds =
            static_cast<double>(*booted) + static_cast<double>(field(22)) / ticks;
    } catch (const std::exception&) {
        return std::nullopt;
    }
    if (DIR* dir = opendir("/proc/self/fd")) {
        while (dirent* entry = readdir(dir)) {
            if (entry->d_name[0] != '.') ++stats.open_fds;
        }
        closedir(dir);
        if (stats.open_fds > 0) --stats.open_fds;  // the directory stream's own descriptor
    }
    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) == 0) stats.max_fds = limit.rlim_cur;
    return stats;
}

}  // namespace ck

// The process figures Prometheus' client libraries export under `process_*` (resident and
// virtual memory, open and allowed file descriptors, start time, CPU time), read from
// /proc/self on Linux. nullopt where /proc cannot be read.
#pragma once

#include <cstdint>
#include <optional>

namespace ck {

struct ProcessStats {
    std::uint64_t resident_bytes = 0;
    std::uint64_t virtual_bytes = 0;
    std::uint64_t open_fds = 0;
    std::uint64_t max_fds = 0;
    double start_time_seconds = 0;  // unix time
    double cpu_seconds = 0;         // user + system
};

std::optional<ProcessStats> read_process_stats();

}  // namespace ck

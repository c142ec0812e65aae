#include "log/log.hpp"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <mutex>
#include <string>

namespace ck {
namespace {

LogLevel threshold()
{
    static const LogLevel level = [] {
        const char* env = std::getenv("COURSE_KIOSK_LOG");
        std::string name = env != nullptr ? env : "";
        if (name == "debug") return LogLevel::debug;
        if (name == "warn") return LogLevel::warn;
        if (name == "error") return LogLevel::error;
        return LogLevel::info;
    }();
    return level;
}

const char* level_name(LogLevel level)
{
    switch (level) {
        case LogLevel::debug:
            return "debug";
        case LogLevel::info:
            return "info ";
        case LogLevel::warn:
            return "warn ";
        case LogLevel::error:
            return "error";
    }
    return "?";
}

}  // namespace

bool log_enabled(LogLevel level) { return level >= threshold(); }

void log_line(LogLevel level, std::string_view subsystem, std::string_view message)
{
    // The system clock, not the device clock: log lines say when the process wrote them.
    std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
    std::tm utc{};
    gmtime_r(&now, &utc);
    char stamp[32];
    std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &utc);
    static std::mutex mutex;
    std::lock_guard lock(mutex);
    std::fprintf(stderr, "%s %s %.*s: %.*s\n", stamp, level_name(level),
                 static_cast<int>(subsystem.size()), subsystem.data(),
                 static_cast<int>(message.size()), message.data());
}

}  // namespace ck

// Log lines on standard error (journald picks them up under systemd):
//   2026-11-23T08:41:07Z warn  store: committing to the store: No space left on device
// One macro per level; the subsystem names the part of the program that speaks.
#pragma once

#include <sstream>
#include <string_view>

namespace ck {

enum class LogLevel { debug, info, warn, error };

void log_line(LogLevel level, std::string_view subsystem, std::string_view message);
// Lines below this level are dropped (default info; COURSE_KIOSK_LOG=debug|info|warn|error).
bool log_enabled(LogLevel level);

}  // namespace ck

#define CK_LOG(level, subsystem, expr)                              \
    do {                                                            \
        if (::ck::log_enabled(level)) {                             \
            std::ostringstream ck_log_stream_;                      \
            ck_log_stream_ << expr;                                 \
            ::ck::log_line(level, subsystem, ck_log_stream_.str()); \
        }                                                           \
    } while (0)
#define CK_DEBUG(subsystem, expr) CK_LOG(::ck::LogLevel::debug, subsystem, expr)
#define CK_INFO(subsystem, expr) CK_LOG(::ck::LogLevel::info, subsystem, expr)
#define CK_WARN(subsystem, expr) CK_LOG(::ck::LogLevel::warn, subsystem, expr)
#define CK_ERROR(subsystem, expr) CK_LOG(::ck::LogLevel::error, subsystem, expr)

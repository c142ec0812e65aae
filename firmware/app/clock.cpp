#include "app/clock.hpp"

#include <sys/timex.h>

#include <cstdlib>

namespace ck {

bool system_clock_synchronised()
{
    timex tx{};
    int state = adjtimex(&tx);
    return state != TIME_ERROR && state != -1 && (tx.status & STA_UNSYNC) == 0;
}

DeviceClock::DeviceClock()
{
    if (const char* fake = std::getenv("COURSE_KIOSK_FAKE_TIME"); fake != nullptr && *fake) {
        if (auto t = parse_rfc3339(fake)) {
            auto real = std::chrono::time_point_cast<std::chrono::seconds>(
                std::chrono::system_clock::now());
            offset_s_ = (*t - real).count();
        }
    }
    if (const char* trust = std::getenv("COURSE_KIOSK_CLOCK_TRUSTED"); trust != nullptr && *trust) {
        forced_trust_ = std::string(trust) == "1" ? 1 : 0;
    }
}

Instant DeviceClock::now() const
{
    auto real =
        std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
    return real + std::chrono::seconds(offset_s_.load());
}

bool DeviceClock::trusted() const
{
    if (forced_trust_ >= 0) return forced_trust_ == 1;
    return set_by_someone_ || system_clock_synchronised();
}

std::string DeviceClock::trust_source() const
{
    if (forced_trust_ >= 0) return "forced";
    if (set_by_someone_) {
        std::lock_guard lock(mutex_);
        return set_source_;
    }
    return system_clock_synchronised() ? "ntp" : "none";
}

void DeviceClock::set(Instant t, std::string source)
{
    auto real =
        std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
    offset_s_ = (t - real).count();
    forced_trust_ = -1;
    std::lock_guard lock(mutex_);
    set_source_ = std::move(source);
    set_by_someone_ = true;
}

}  // namespace ck

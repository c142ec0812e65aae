// The device clock: the system clock plus a correction, and whether it is trusted
// (SPEC section 8). A Raspberry Pi has no real-time clock, so after a power cut the
// system time may be far off until NTP answers; the device must know that.
//
// Trusted when the kernel reports NTP synchronisation, or when staff or the registry set
// a correction (later issues). For tests and demos the environment can pin the clock:
//   COURSE_KIOSK_FAKE_TIME=2026-11-23T09:00:00+01:00   the clock starts there and runs on
//   COURSE_KIOSK_CLOCK_TRUSTED=0|1                     forces the trust state until set()
#pragma once

#include <atomic>
#include <mutex>
#include <string>

#include "core/time.hpp"

namespace ck {

class DeviceClock {
public:
    DeviceClock();  // reads the environment described above
    Instant now() const;
    bool trusted() const;
    // "ntp", "staff", "registry", "forced" or "none".
    std::string trust_source() const;
    // Staff set the clock: from now on `now()` is `t` plus the elapsed time, and trusted.
    void set(Instant t, std::string source);
    std::chrono::seconds offset() const { return std::chrono::seconds(offset_s_.load()); }

private:
    std::atomic<long long> offset_s_{0};
    int forced_trust_ = -1;     // -1: not forced
    mutable std::mutex mutex_;  // guards set_source_
    std::atomic<bool> set_by_someone_{false};
    std::string set_source_;
};

// True when the kernel says the system clock is synchronised (adjtimex, no STA_UNSYNC).
bool system_clock_synchronised();

}  // namespace ck

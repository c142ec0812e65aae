// The device clock (SPEC section 8). A Raspberry Pi has no real-time clock: after a power
// cut the system time may be hours or years off until NTP answers, and a venue may have no
// internet. So the device keeps two clocks apart:
//   - the wall clock (CLOCK_REALTIME), which says what time it is but may be wrong and may
//     jump when NTP or someone sets it;
//   - the boot clock (CLOCK_BOOTTIME), which never jumps but only counts from boot.
//
// The device clock is trusted when the kernel reports NTP synchronisation, or once staff
// (dashboard) or the registry (its Date header) have said what time it is. Such a
// correction is anchored on the boot clock, so a later jump of the wall clock does not
// move it. NTP, when synchronised, wins over a correction.
//
// A reading taken while the clock is not trusted carries a BootStamp; once the clock is
// trusted in the same boot, instant_of() tells the true time of that reading. Held
// check-ins are filed that way (CheckinService::file_held, app/checkin_service.hpp).
//
// For tests and demos the environment can pin the clock:
//   COURSE_KIOSK_FAKE_TIME=2026-11-23T09:00:00+01:00   the wall clock starts there and runs
//   COURSE_KIOSK_CLOCK_TRUSTED=0|1                     forces the trust state until set()
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "core/time.hpp"

namespace ck {

// Where the clock gets its readings from: the kernel in production, a script in tests.
class TimeSource {
public:
    virtual ~TimeSource() = default;
    virtual Instant wall_now() const = 0;                      // may jump
    virtual std::chrono::milliseconds since_boot() const = 0;  // never jumps
    virtual std::string boot_id() const = 0;                   // changes at every boot
    virtual bool ntp_synchronised() const = 0;
};

// The kernel: CLOCK_REALTIME, CLOCK_BOOTTIME, /proc/sys/kernel/random/boot_id, adjtimex.
std::unique_ptr<TimeSource> system_time_source();

// A moment on the boot clock: which boot, and how long after it.
struct BootStamp {
    std::string boot_id;
    std::chrono::milliseconds since_boot{0};
};

// One consistent look at the clock.
struct ClockReading {
    Instant now;
    bool trusted = false;
    std::string source;  // "ntp", "staff", "registry", "forced" or "none"
    BootStamp stamp;
};

class DeviceClock {
public:
    DeviceClock();  // the kernel's clocks, and the environment described above
    explicit DeviceClock(std::unique_ptr<TimeSource> source);

    ClockReading read() const;
    Instant now() const { return read().now; }
    // The system's wall clock (with the tests' fake time), without any correction: for
    // ages that must not jump when staff set the clock, such as staff sessions.
    Instant system_now() const { return source_->wall_now() + fake_offset_; }
    bool trusted() const { return read().trusted; }
    std::string trust_source() const { return read().source; }
    // The device clock minus the wall clock (what a correction added).
    std::chrono::seconds offset() const;

    // Staff or the registry say it is `t` now: trusted from now on, anchored on the boot
    // clock. `source` is "staff" or "registry". Returns the correction, for keeping.
    struct Correction {
        Instant at;                            // what staff or the registry said
        std::chrono::milliseconds since_boot;  // when they said it
        std::string boot_id;
        std::string source;
    };
    Correction set(Instant t, std::string source);
    // A correction kept from an earlier run of the server: applied when it is from this
    // boot (a restart of the service keeps the clock trusted), ignored otherwise.
    bool restore(const Correction& kept);
    // Trusts the system's wall clock as it is, reported as `source` ("demo"): a demo on a
    // laptop or in a container, whose clock is right but not NTP-synchronised as the
    // kernel sees it. A real device never does this. The tests' COURSE_KIOSK_CLOCK_TRUSTED
    // still wins; a later set() replaces it.
    void trust_wall_clock(std::string source);

    // The true time of `stamp`, when the clock is trusted now and `stamp` is from this
    // boot; nullopt otherwise (another boot: the time between is unknown).
    std::optional<Instant> instant_of(const BootStamp& stamp) const;

private:
    std::unique_ptr<TimeSource> source_;
    std::chrono::seconds fake_offset_{0};  // COURSE_KIOSK_FAKE_TIME
    int forced_trust_ = -1;                // -1: not forced
    std::string forced_source_ = "forced";
    mutable std::mutex mutex_;  // guards the correction
    std::optional<Correction> correction_;
};

// True when the kernel says the system clock is synchronised (adjtimex, no STA_UNSYNC).
bool system_clock_synchronised();

}  // namespace ck

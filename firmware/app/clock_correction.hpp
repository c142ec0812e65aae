// Staff (PUT /api/v1/clock, from their browser) or the registry (the Date header of its
// answers) say what time it is (SPEC section 8). One function does all of it, for both:
// the device clock takes the time (trusted from now on, anchored on the boot clock), the
// correction is kept in the store so that a restart in the same boot stays trusted, the
// audit log records it, and the check-ins held while the clock was untrusted are filed.
#pragma once

#include <string>

#include "app/checkin_service.hpp"
#include "core/time.hpp"

namespace ck {

class Device;

struct ClockCorrection {
    Instant before;  // the device clock's reading just before
    Instant after;
    FilingReport filed;
};

// `source` is "staff" or "registry"; `actor` the staff member's name or "registry".
ClockCorrection correct_clock(Device& device, CheckinService& checkins, Instant t,
                              const std::string& source, const std::string& actor);

// Applies the correction kept by an earlier run of the server, when it is from this boot
// (open_device calls it).
void restore_clock_correction(Device& device);

}  // namespace ck

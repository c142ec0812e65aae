// Files the check-ins held while the clock was not trusted (SPEC section 8), once it is:
// the true time of each is the trusted clock minus the boot-clock time since it was taken,
// and its session is the one open at that time. So a clock that was hours or days off
// never files a check-in under the wrong session or day.
//
// A held check-in that cannot be filed by itself stays held with the reason, for staff:
// taken in an earlier boot (the time between is unknown), or no session was open then.
#pragma once

#include <string>

#include "core/status.hpp"

namespace ck {

class Device;

struct FilingReport {
    int filed = 0;       // recorded as check-ins
    int duplicates = 0;  // the attendee already had a check-in there
    int left = 0;        // still held, with a reason
};

// Does nothing while the clock is not trusted. Safe to call from any thread.
FilingReport file_held_checkins(Device& device);

// Staff file a held check-in under `session_id` by hand (POST /api/v1/held/{id}/file).
Status file_held_by_hand(Device& device, const std::string& held_id, const std::string& session_id,
                         const std::string& staff);

}  // namespace ck

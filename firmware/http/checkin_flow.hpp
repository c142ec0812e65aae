// The steps every kind of check-in shares (badge, phone, manual): the decision context
// from the device, and recording an admitted check-in and answering with it.
#pragma once

#include <httplib.h>

#include <string>

#include "core/checkin_policy.hpp"

namespace ck {

class Device;

// The device's clock, keys and revocations as the check-in policy sees them. `verifier`
// (null where no credential is read) must outlive the context.
CheckinContext checkin_context(Device& device, const CredentialVerifier* verifier);

struct CheckinBy {
    std::string attendee_id;
    std::string source;  // badge, phone, manual
    std::string staff;   // manual only
    std::uint16_t issue = 0;
};

// Records `admission` for `who` and answers 201 checked_in, 200 already_checked_in (with the
// first check-in), 202 held (the clock is not trusted) or the store's error. A manual correction
// outside the session's window is never flagged late.
void record_and_answer(Device& device, const CheckinContext& context,
                       const CheckinAdmission& admission, const CheckinBy& who,
                       httplib::Response& res);

}  // namespace ck

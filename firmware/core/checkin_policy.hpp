// The check-in decision: given a scanned text and the instant, may it be recorded, and
// for which session? Pure: the caller supplies the clock reading, keys and revocations,
// and the store records the outcome.
#pragma once

#include <functional>
#include <string_view>

#include "core/credential.hpp"
#include "core/schedule.hpp"
#include "core/status.hpp"

namespace ck {

struct CheckinContext {
    const Schedule* schedule = nullptr;
    const CredentialVerifier* verifier = nullptr;  // needed by admit_checkin only
    // True when the credential (attendee, issue) has been revoked.
    std::function<bool(const Credential&)> is_revoked;
    Instant now;
    bool clock_trusted = true;
    bool refuse_when_clock_untrusted = false;
};

struct CheckinAdmission {
    Credential credential;
    // While the clock is not trusted nobody can tell which session this is: the check-in
    // is held (session nullptr) and filed once the clock is trusted (SPEC section 8).
    bool hold = false;
    const ResolvedSession* session = nullptr;  // late or not: Schedule::is_late, when recorded
    bool clock_untrusted = false;              // recorded while the clock was not trusted
    // Presence mode, no session open: `session` ended a moment ago (core/presence.hpp
    // session_to_leave) and only an exit may be recorded in it; an entry is refused with
    // `entry_refusal` (no_open_session). So is a session given (a phone's token) that has
    // ended.
    bool leaving_only = false;
    Status entry_refusal;
};

// Status codes: invalid_credential, wrong_module, revoked, no_open_session (message says
// when the next window opens, in the module's local time), clock_not_trusted. In presence
// mode a session that ended a moment ago is admitted for leaving only.
Result<CheckinAdmission> admit_checkin(std::string_view qr_text, const CheckinContext& context);

// Admission for a known attendee without a credential (manual or phone check-in) into
// `session` (or the open session when nullptr). While the clock is not trusted only a
// session that staff chose is used (flagged clock_untrusted); otherwise the check-in is
// held, or refused with clock_not_trusted when so configured.
//
// A session staff chose by hand counts for credits, so it must have happened: before its
// check-in window opens it is refused (session_not_started); once it is over, or while the
// clock cannot tell, staff must say why (`has_reason`, else reason_required; the reason is
// audited with the check-in).
Result<CheckinAdmission> admit_session(const CheckinContext& context,
                                       const ResolvedSession* session = nullptr,
                                       bool chosen_by_staff = false, bool has_reason = false);

}  // namespace ck

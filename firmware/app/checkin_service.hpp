// The check-in use case (SPEC sections 2, 5 and 8). Every way a check-in comes in is
// decided and recorded here, once:
//   - a scanned badge: the credential is verified (signature, module, revocation);
//   - a phone whose cookie names its attendee, into the session its display token names;
//   - staff, by hand, into the open session or one they choose;
//   - a check-in held while the clock was not trusted, filed once it is.
// Admission (which session, or none, or hold) is the core's rule (core/checkin_policy.hpp);
// "late" is Schedule::is_late at the recorded time, for every kind alike. The store records
// in one write transaction that also reads the attendee, and answers "already" with the
// first check-in when there is one. The HTTP layer only parses requests and writes answers.
//
// In presence mode (SPEC section 10) a badge or phone scan enters or leaves the session
// (core/presence.hpp decide_scan, within the store's write: two kiosks cannot both take
// the same attendee in), a repeat within the grace is "already", staff check in (enter) and
// record exits by hand, and a session that just ended still takes exits.
//
// Thread-safe: handlers call it from many threads; the store serialises the writes.
#pragma once

#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "core/checkin_policy.hpp"
#include "core/phone_token.hpp"
#include "core/presence.hpp"
#include "core/status.hpp"
#include "store/store.hpp"

namespace ck {

class Device;

struct CheckinResult {
    // already_held: held, and the same attendee was held minutes ago on this boot (a second
    // scan); kept all the same, since the two may belong to different sessions.
    enum class Kind { created, already, held, already_held };
    Kind kind = Kind::created;
    CheckinRecord record;              // created: the new check-in; already: the first one
    HeldCheckin held;                  // held: kept until the clock is trusted
    std::optional<Attendee> attendee;  // the roster's entry when it was recorded
    // Presence mode: `record` is an entry or an exit (record.exit()); already: the last scan.
    // The attendee's presence in the session after it (minutes so far), and the entry an
    // exit closed.
    std::optional<SessionPresence> presence;
    std::optional<CheckinRecord> closed_entry;
};

// What a phone offers to say whose it is: a badge code, or the registration number and
// the family name.
struct PhoneProof {
    std::optional<std::string> credential;
    std::string attendee_id;
    std::string family_name;
};

struct FilingReport {
    int filed = 0;       // recorded as check-ins
    int duplicates = 0;  // the attendee already had a check-in there
    int left = 0;        // still held, with a reason for staff
};

class CheckinService {
public:
    explicit CheckinService(Device& device);  // `device` must outlive the service

    // Error codes: invalid_credential, wrong_module, revoked, no_open_session,
    // clock_not_trusted, and the store's (storage_full, storage_unavailable...).
    Result<CheckinResult> badge(std::string_view qr_text);
    // `session` is the one the phone's display token names.
    Result<CheckinResult> phone(const std::string& attendee_id, const ResolvedSession& session);
    // Whose phone this is (the attendee and their badge's issue; `expires` is left 0):
    // a valid badge of this module that is not revoked, or a rostered registration number,
    // in any case and with spaces around it ignored, whose family name matches as people
    // type it (core/text_fold.hpp: "mueller" or "muller" for Müller, "obrien" for O'Brien).
    // identity_not_found otherwise, without saying which part failed.
    Result<PhoneIdentity> identify(const PhoneProof& proof) const;

    // `session` nullptr: the open session. not_found for an attendee not in the roster; a
    // chosen session must have started, and one that is over needs `reason` (audited):
    // admit_session in core/checkin_policy.hpp.
    Result<CheckinResult> manual(const std::string& attendee_id, const ResolvedSession* session,
                                 const std::string& staff, const std::string& reason = {});

    // Presence mode: staff record that the attendee left `session` (nullptr: the one just
    // ended if they were still inside it, else the open one) at `at` (nullopt: now). The attendee
    // must have been inside then (not_inside otherwise); `at` may not be in the future nor before
    // the session's window (malformed_request). Audited with `reason`.
    Result<CheckinResult> exit_by_hand(const std::string& attendee_id,
                                       const ResolvedSession* session, std::optional<Instant> at,
                                       const std::string& staff, const std::string& reason = {});

    // Files the check-ins held while the clock was not trusted, once it is: the true time
    // of each is the trusted clock minus the boot-clock time since it was taken, and its
    // session is the one open then. One that cannot be filed by itself (taken in an
    // earlier boot, or when no session was open) stays held with the reason. Does nothing
    // while the clock is not trusted.
    FilingReport file_held();
    // Staff file a held check-in under `session_id` by hand. not_found when it is no longer
    // held; malformed_request for an unknown session.
    Status file_held_by_hand(const std::string& held_id, const std::string& session_id,
                             const std::string& staff);

private:
    struct Who {
        std::string attendee_id;
        std::string source;  // badge, phone, manual
        std::string staff;   // manual only
        std::uint16_t issue = 0;
        std::string reason;  // manual only: why staff chose a session that is over
    };
    // What a presence-mode scan may be: a scan toggles; staff enter or leave by hand.
    enum class Intent { scan, enter, leave };
    using Decider = std::function<Result<ScanDecision>(const std::vector<CheckinRecord>&)>;
    Decider decider(const ResolvedSession& session, Instant at, Intent intent,
                    const CheckinAdmission* admission) const;
    CheckinContext context(const CredentialVerifier* verifier) const;
    // Presence mode: the session that ended a moment before `at` (core/presence.hpp
    // session_just_ended) when the attendee was still inside it at `at`; else nullptr.
    const ResolvedSession* session_still_inside(const std::string& attendee_id, Instant at) const;
    Result<CheckinResult> record(const CheckinContext& context, const CheckinAdmission& admission,
                                 const Who& who, Intent intent = Intent::scan);
    // The store's outcome as the service's result (presence: the minutes until `now`).
    CheckinResult result_of(CheckinOutcome outcome, Instant now) const;
    Result<CheckinResult> hold(const CheckinContext& context, const Who& who);
    // The one place a check-in record is made: live, by hand, or filed later.
    NewCheckin new_checkin(const Who& who, const ResolvedSession& session, Instant at,
                           bool clock_untrusted) const;

    Device& device_;
    std::mutex filing_;  // one filing pass at a time (the closer, the clock, the relay)
};

}  // namespace ck

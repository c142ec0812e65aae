// The device's store: LMDB in the data directory (SPEC section 7).
//
// What it holds: metadata (schema version, device id, module id), attendees, check-ins
// (findable by attendee and by session), the append-only event log that is also the sync
// outbox (SPEC section 6), trusted public keys and revoked credentials.
//
// Contracts:
// - Every change and its event are written in the same transaction, so the outbox never
//   misses or invents a change. Event sequence numbers run 1, 2, 3, ... with no gap.
// - Writes go through the group-commit WriteQueue: a write call returns only after its
//   transaction is durably committed.
// - Reads use read-only transactions and never block writes.
// - Nothing is deleted: a void is a new event that marks the check-in.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/attendance.hpp"
#include "core/credential.hpp"
#include "core/registry_roster.hpp"
#include "core/roster.hpp"
#include "core/status.hpp"
#include "core/time.hpp"
#include "store/lmdb.hpp"
#include "store/write_queue.hpp"

namespace ck {

// 2: staff accounts carry a role (version 1 accounts become admins when opened).
inline constexpr int kStoreSchemaVersion = 2;

struct StoreOptions {
    std::string dir;
    // Explicit map size; must stay well under 2 GiB on 32-bit ARM.
    std::size_t map_size = sizeof(void*) == 4 ? (256u << 20) : (std::size_t{1} << 30);
};

struct CheckinRecord {
    std::string id;  // UUID, also the id of the event that recorded it
    std::string attendee_id;
    std::string session_id;
    Instant at;
    std::string at_text;  // RFC 3339 in the module's zone, as recorded
    std::string source;   // badge, phone, manual
    bool late = false;
    bool not_in_roster = false;
    bool clock_untrusted = false;
    std::string staff;        // who made a manual check-in
    std::uint16_t issue = 0;  // credential issue, 0 when not from a credential
    bool voided = false;
    std::string void_reason;
    // Presence mode (SPEC section 10): "checkin" for an entry, "checkout" for an exit,
    // which names the entry it closed.
    std::string kind = "checkin";
    std::string entry_id;
    bool exit() const { return kind == "checkout"; }
};

// The one JSON shape of a check-in: as stored, as every answer and export shows it
// (schemas/attendee.schema.json#/$defs/checkin), with "local_time" (HH:MM in the module's
// zone). Field names are stable: stored records are read back with checkin_from_json.
nlohmann::json checkin_to_json(const CheckinRecord& record);
// The sessions with a valid (non-voided) check-in among `checkins`.
std::set<std::string> attended_session_ids(const std::vector<CheckinRecord>& checkins);
// An attendee's attendance from their records, in either mode (core/attendance.hpp): in
// presence mode the entries and exits with their minutes (until `now` for a stay without
// exit, when given), voided records left out.
EventAttendance attendance_of(const ModuleEdition& module,
                              const std::vector<CheckinRecord>& records,
                              std::optional<Instant> now = std::nullopt);
// Presence mode: the scans of `records` (one attendee, one session) as core/presence.hpp
// takes them: voided ones and the exits of voided entries left out.
std::vector<PresenceScan> presence_scans(const std::vector<CheckinRecord>& records);
std::optional<CheckinRecord> checkin_from_json(const nlohmann::json& json);

struct NewCheckin {
    std::string module_id;
    std::string attendee_id;
    std::string session_id;
    Instant at;
    std::string at_text;
    std::string source;
    bool late = false;
    bool clock_untrusted = false;
    std::string staff;
    std::uint16_t issue = 0;
    std::string reason;  // a manual check-in's reason, in its audit entry
    // Set by file_held_checkin(): the check-in was held, and its event says so (`held`).
    std::optional<nlohmann::json> held;
    // Presence mode: decides, within the write, from the attendee's records in the session
    // (voided ones included) whether this scan enters, leaves or repeats; an error aborts
    // the write. Unset: a session-mode check-in (at most one valid per session).
    std::function<Result<ScanDecision>(const std::vector<CheckinRecord>&)> decide;
};

// A check-in taken while the device clock was not trusted (SPEC section 8): the credential
// was valid, but which session it belongs to waits until the clock is trusted. The boot
// stamp lets the true time be worked out then (app/clock.hpp).
struct HeldCheckin {
    std::string id;
    std::string attendee_id;
    std::string source;  // badge, phone or manual
    std::string staff;   // manual only
    std::uint16_t issue = 0;
    std::string boot_id;
    std::int64_t since_boot_ms = 0;
    std::string device_time;  // the untrusted clock's reading (RFC 3339), for people
    std::string problem;      // why it could not be filed by itself; empty: not tried yet
};

struct CheckinOutcome {
    bool created = false;              // false: the attendee already had a valid check-in there
    CheckinRecord record;              // the new check-in, or the first one
    std::optional<Attendee> attendee;  // the roster's entry, read in the same transaction
    // Presence mode: what the scan did (created: entry or exit; not created: a double scan,
    // `record` the scan it repeats), the entry an exit closed, and the attendee's records
    // in the session after it.
    ScanDecision::Kind scan = ScanDecision::Kind::entry;
    std::optional<CheckinRecord> closed_entry;
    std::vector<CheckinRecord> session_records;
};

struct HoldOutcome {
    std::optional<Attendee> attendee;  // the roster's entry, read in the same transaction
    // The attendee's latest held check-in of the same boot within the window asked for, if
    // any: a second scan of the same badge (which is kept too, so nothing is lost when the
    // two belong to different sessions).
    std::optional<HeldCheckin> earlier;
};

struct RosterStats {
    int created = 0;
    int updated = 0;
    int unchanged = 0;
};

struct StoredEvent {
    std::uint64_t seq = 0;
    nlohmann::json body;
};

// Who did something, and when (by the device clock), for voids, closes and the audit log.
struct Actor {
    std::string name;  // staff member's username, "badge", "phone" or "automatic"
    Instant at;
    std::string at_text;  // RFC 3339 in the module's zone
};

struct SessionCount {
    int present = 0;  // valid (non-voided) check-ins
    int late = 0;     // of which late
};

// An admin also manages the staff accounts (app/staff_accounts.hpp); staff run the day.
enum class StaffRole { admin, staff };
std::string_view staff_role_name(StaffRole role);
std::optional<StaffRole> parse_staff_role(std::string_view text);  // "admin" or "staff"

struct StaffAccount {
    std::string username;
    std::string password_hash;  // core/password.hpp format
    // Accounts stored before roles existed are admins (they could do everything).
    StaffRole role = StaffRole::admin;
    bool disabled = false;   // cannot log in; has no sessions
    std::string created;     // RFC 3339 in the module's zone; empty when not known
    std::string last_login;  // RFC 3339; empty before the first login (since roles)
};

class Store {
public:
    // Opens the store in `options.dir` (which must exist), creating it when empty.
    // Refuses, with a clear Status, a store of a newer schema or an unreadable one.
    static Result<std::unique_ptr<Store>> open(const StoreOptions& options);
    ~Store();

    // --- metadata
    std::optional<std::string> meta(std::string_view key) const;
    Status set_meta(std::string_view key, std::string_view value);
    int schema_version() const;

    // --- attendees
    std::optional<Attendee> attendee(std::string_view id) const;
    // The attendees whose registration number is `id` in any case of its ASCII letters
    // ("ecnr-77" finds ECNR-77), exact or not: ids are unique as written, so two may differ
    // only in case. A scan of the ids (the values of the matches alone are read).
    std::vector<Attendee> attendees_with_id_ignoring_case(std::string_view id) const;
    std::vector<Attendee> attendees() const;
    // The roster in pieces: at most `limit` attendees whose ids sort after `after` (empty:
    // from the first), in id order, read in one short transaction. An answer shorter than
    // `limit` is the last piece. Memory is bounded by `limit`, not by the roster.
    std::vector<Attendee> attendees_after(std::string_view after, std::size_t limit) const;
    std::size_t attendee_count() const;
    Result<RosterStats> import_roster(const std::vector<Attendee>& attendees);
    // Adds one attendee who is not in the roster (a walk-in registered at the desk) by the
    // roster import's write path, with an audit entry "walk_in" by `actor` (`details`, the
    // attendee's id and names added) in the same transaction. attendee_exists when the
    // roster holds the id in any case of its letters: ECNR-77 and ecnr-77 are one person to
    // the phones and the searches, so a second one is never made. Returns the roster's
    // entry of that id on attendee_exists in `existing` when it is not null.
    Status add_attendee(const Attendee& attendee, const Actor& actor, Attendee* existing = nullptr);

    // --- check-ins
    // Records a check-in unless the attendee already has a valid one in that session;
    // exactly one wins when several race. Appends a "checkin" event in the same
    // transaction, which also reads the attendee: not_in_roster is set from it.
    Result<CheckinOutcome> record_checkin(const NewCheckin& checkin);
    std::optional<CheckinRecord> checkin(std::string_view checkin_id) const;

    // --- check-ins held while the clock was not trusted (store_held.cpp)
    Result<HoldOutcome> hold_checkin(const HeldCheckin& held, std::int64_t same_scan_window_ms = 0);
    std::vector<HeldCheckin> held_checkins() const;
    std::size_t held_count() const;
    // Files a held check-in as `checkin` and forgets the hold, in one transaction (with an
    // audit entry by `actor`). not_found when it is no longer held. Its event carries
    // `"held": {"device_time", "filed_by"}`: the untrusted clock's reading when it was
    // taken, and who filed it ("clock" when the trusted clock did).
    Result<CheckinOutcome> file_held_checkin(std::string_view held_id, const NewCheckin& checkin,
                                             const Actor& actor);
    // Notes why a held check-in could not be filed by itself (staff decide).
    Status mark_held(std::string_view held_id, std::string_view problem);
    // The valid (non-voided) check-in of an attendee in a session.
    std::optional<CheckinRecord> find_checkin(std::string_view attendee_id,
                                              std::string_view session_id) const;
    std::vector<CheckinRecord> checkins_of_attendee(std::string_view attendee_id) const;
    std::vector<CheckinRecord> checkins_of_session(std::string_view session_id) const;
    // The attendees not in the roster who have a check-in (voided or not) in `session_id`:
    // at most `limit` of their ids sorting after `after` (empty: from the first), in id
    // order, each once. Fewer than `limit` (none included): the last piece.
    std::vector<std::string> unrostered_attendees_in_session(std::string_view session_id,
                                                             std::string_view after,
                                                             std::size_t limit) const;
    std::size_t checkin_count() const;
    // Voids a check-in: marks it, appends a "void" event and an audit entry. Errors:
    // not_found, already_voided.
    Result<CheckinRecord> void_checkin(std::string_view module_id, std::string_view checkin_id,
                                       std::string_view reason, const Actor& actor);
    // The newest valid check-ins, newest first (for the entrance display).
    std::vector<CheckinRecord> recent_checkins(std::size_t limit) const;
    // Present and late per session id, kept up to date by every check-in and void (no scan).
    std::map<std::string, SessionCount> session_counts() const;

    // --- module close and completion records
    // Writes one completion record (and "completion" event) per rostered attendee, once.
    // Returns the number written; closing a closed module writes nothing.
    Result<int> close_module(const ModuleEdition& module, const Actor& actor);
    bool module_closed() const;
    // Completion records, by attendee id.
    std::vector<nlohmann::json> completions() const;

    // --- staff accounts and their sessions
    std::optional<StaffAccount> staff(std::string_view username) const;
    std::vector<std::string> staff_names() const;
    // Writes the account (new, or with a new password) and ends every browser session of
    // that user name, in one transaction: a reset password locks out a stolen cookie too.
    Status put_staff(const StaffAccount& account);
    // Every account, by user name.
    std::vector<StaffAccount> staff_accounts() const;
    // One change to the staff accounts, decided and written in one write transaction (two
    // admins at once cannot both disable the other of the last two admins): `decide` gets
    // every account as stored and returns the account to write, or an error to write
    // nothing. The account is written, its browser sessions end (as put_staff), and the
    // audit entry (`action`, `details`, by `actor`) is appended in the same transaction.
    using StaffDecision = std::function<Result<StaffAccount>(const std::vector<StaffAccount>&)>;
    Status change_staff(const StaffDecision& decide, const Actor& actor, std::string_view action,
                        nlohmann::json details);
    // Notes a login's time on the account, keeping its sessions (best effort).
    Status note_staff_login(std::string_view username, std::string_view at_text);
    // Browser sessions, keyed by a hash of the cookie's token.
    Status put_staff_session(std::string_view token_hash, const nlohmann::json& session);
    std::optional<nlohmann::json> staff_session(std::string_view token_hash) const;
    Status delete_staff_session(std::string_view token_hash);
    // Deletes sessions whose "expires" (unix seconds) is at or before `now`.
    Status purge_staff_sessions(std::int64_t now);

    // --- audit log (for people; the event log is for the registry)
    Status audit(const Actor& actor, std::string_view action, nlohmann::json details);
    // Newest first, at most `limit`, with seq < `before` (0: from the newest).
    std::vector<StoredEvent> audit_entries(std::size_t limit, std::uint64_t before = 0) const;

    // --- keys and revocations
    TrustedKeys trusted_keys() const;
    Status add_trusted_key(std::uint32_t key_id, const PublicKey& key);
    bool is_revoked(std::string_view attendee_id, std::uint16_t issue) const;
    Status revoke(std::string_view attendee_id, std::uint16_t issue, std::string_view reason);
    // Applies the registry's roster in one transaction: attendees created or updated,
    // revocations added, keys added or replaced, and `etag` kept in meta "roster_etag".
    Result<RosterStats> apply_registry_roster(const RegistryRoster& roster, std::string_view etag);
    // The issue number of the attendee's valid badge: 1 until it is re-issued.
    std::uint16_t current_issue(std::string_view attendee_id) const;
    // Re-issues an attendee's badge: revokes the current issue and returns the next one,
    // in one transaction.
    Result<std::uint16_t> reissue(std::string_view attendee_id, std::string_view reason);

    // --- event log (sync outbox)
    std::uint64_t last_seq() const;
    std::vector<StoredEvent> events_from(std::uint64_t first_seq, std::size_t limit) const;
    // The highest seq the registry holds with everything before it (0: nothing yet).
    std::uint64_t acked_through() const;
    // Records the registry's acknowledgement. Only moves forward, unless `rewind` (the
    // registry answered 409 with a lower acked_through: it lost or never got those events).
    // Never beyond last_seq.
    Status set_acked_through(std::uint64_t seq, bool rewind);

    // Called after every commit that appended events (from the committing thread, after
    // the commit): the sync relay's wake-up. Set once, before the store is shared.
    void on_events_committed(std::function<void()> listener)
    {
        events_listener_ = std::move(listener);
    }

    // Map use, for /metrics and doctor.
    std::size_t map_size() const { return env_.map_size(); }
    std::size_t used_bytes() const { return env_.used_bytes(); }
    const WriteQueue& write_queue() const { return *writes_; }

private:
    Store() = default;
    Status open_databases();
    // Writes a staff account and ends its browser sessions.
    Status write_staff(Txn& txn, const StaffAccount& account);
    // Schema 1 to 2: every account stored without a role is written as an admin.
    Status migrate_staff_roles(Txn& txn);
    Status append_event(Txn& txn, nlohmann::json event, std::uint64_t* seq_out = nullptr);
    Status append_audit(Txn& txn, const Actor& actor, std::string_view action,
                        nlohmann::json details);
    Status count_checkin(Txn& txn, const CheckinRecord& record, int delta);
    Status insert_checkin(Txn& txn, const NewCheckin& checkin, CheckinOutcome& outcome);
    Status upsert_attendees(Txn& txn, const std::vector<Attendee>& attendees, RosterStats& stats);
    std::optional<CheckinRecord> read_checkin(const Txn& txn, std::string_view id) const;
    std::optional<Attendee> read_attendee(const Txn& txn, std::string_view id) const;
    // After a write that appended events has committed.
    void events_committed() const
    {
        if (events_listener_) events_listener_();
    }
    Result<Txn> read() const { return Txn::begin(env_, Txn::Mode::read_only); }

    LmdbEnv env_;
    MDB_dbi meta_ = 0;
    MDB_dbi attendees_ = 0;
    MDB_dbi checkins_ = 0;
    MDB_dbi checkin_by_attendee_ = 0;  // attendee \0 session \0 checkin id -> ""
    MDB_dbi checkin_by_session_ = 0;   // session \0 attendee \0 checkin id -> ""
    MDB_dbi events_ = 0;               // seq (u64 BE) -> event JSON
    MDB_dbi keys_ = 0;                 // key id hex -> 32 raw bytes
    MDB_dbi revoked_ = 0;              // attendee \0 issue (u16 BE) -> reason
    MDB_dbi issues_ = 0;               // attendee -> current issue (u16 BE); absent: 1
    MDB_dbi session_counts_ = 0;       // session id -> {"present","late"}
    MDB_dbi completions_ = 0;          // attendee -> completion record JSON
    MDB_dbi staff_ = 0;                // username -> account JSON
    MDB_dbi staff_sessions_ = 0;       // token hash -> {"username","csrf","expires"}
    MDB_dbi held_ = 0;                 // held check-in id -> HeldCheckin JSON
    MDB_dbi audit_ = 0;                // seq (u64 BE) -> entry JSON
    std::unique_ptr<WriteQueue> writes_;
    std::function<void()> events_listener_;
};

// A random (version 4) UUID, from OpenSSL's generator.
std::string new_uuid();

}  // namespace ck

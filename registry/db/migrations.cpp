#include "db/migrations.hpp"

#include <array>
#include <string>

namespace ck::registry {

namespace {

// Version 1: the issuing side (editions, rosters, devices) and the event log with the
// dedup rules of docs/sync.md section 3 as constraints: one event per (device, seq), one
// event per id across all devices. Two registry processes on one database therefore
// cannot store an event twice, whatever order their transactions commit in.
constexpr std::string_view kSchema1 = R"sql(
CREATE TABLE module_editions (
    id          text PRIMARY KEY,
    cycle       text NOT NULL,
    number      integer NOT NULL CHECK (number BETWEEN 1 AND 4),
    venue       text NOT NULL,
    config      jsonb NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE attendees (
    id           text PRIMARY KEY,
    family_name  text NOT NULL,
    given_name   text NOT NULL,
    email        text,
    country      text
);
CREATE TABLE roster_entries (
    module_id    text NOT NULL REFERENCES module_editions (id),
    attendee_id  text NOT NULL REFERENCES attendees (id),
    PRIMARY KEY (module_id, attendee_id)
);
CREATE INDEX roster_entries_attendee ON roster_entries (attendee_id);
CREATE TABLE devices (
    id           text PRIMARY KEY,
    module_id    text NOT NULL REFERENCES module_editions (id),
    token_hash   bytea NOT NULL UNIQUE,
    created_at   timestamptz NOT NULL DEFAULT now(),
    revoked_at   timestamptz,
    last_contact timestamptz
);
CREATE TABLE events (
    device_id    text NOT NULL REFERENCES devices (id),
    seq          bigint NOT NULL CHECK (seq >= 1),
    id           uuid NOT NULL UNIQUE,
    type         text NOT NULL,
    at           timestamptz NOT NULL,
    module_id    text NOT NULL,
    attendee_id  text NOT NULL,
    body         jsonb NOT NULL,
    received_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (device_id, seq)
);
CREATE INDEX events_attendee ON events (attendee_id, module_id);
)sql";

// Version 2: the registry's badge-signing keys (Ed25519; every key not retired is handed
// to the devices with the roster), each attendee's badge issue per edition, and the
// credentials revoked when a badge is re-issued. The private keys are in the database:
// whoever can read it can sign badges, so its backups are kept like the keys themselves.
// And the education office's staff accounts (scrypt) and their sessions (the token's
// SHA-256 only); and each device's last refused batch (a gap, a conflict), for the office.
constexpr std::string_view kSchema2 = R"sql(
CREATE TABLE signing_keys (
    key_id      bigint PRIMARY KEY CHECK (key_id BETWEEN 0 AND 4294967295),
    public_key  bytea NOT NULL UNIQUE CHECK (length(public_key) = 32),
    private_pem text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    retired_at  timestamptz
);
CREATE TABLE badge_issues (
    module_id   text NOT NULL REFERENCES module_editions (id),
    attendee_id text NOT NULL REFERENCES attendees (id),
    issue       integer NOT NULL CHECK (issue BETWEEN 1 AND 65535),
    PRIMARY KEY (module_id, attendee_id)
);
CREATE TABLE revocations (
    module_id   text NOT NULL REFERENCES module_editions (id),
    attendee_id text NOT NULL,
    issue       integer NOT NULL,
    reason      text,
    revoked_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (module_id, attendee_id, issue)
);
ALTER TABLE devices ADD COLUMN last_refusal jsonb;
CREATE TABLE staff (
    username      text PRIMARY KEY,
    password_hash text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    disabled_at   timestamptz
);
CREATE TABLE staff_sessions (
    token_hash  bytea PRIMARY KEY,
    username    text NOT NULL REFERENCES staff (username) ON DELETE CASCADE,
    csrf_token  text NOT NULL,
    expires_at  timestamptz NOT NULL
);
)sql";

// Version 3: progress kept computed (model/progress_summaries.hpp), so that reading it
// costs a row, not a replay of the attendee's events. attendee_progress holds per attendee
// the answer of GET /api/v1/attendees/{id}/progress and the cycle state, edition_progress
// per attendee and edition the export's figures; stale_attendees names the attendees whose
// summaries may be behind what the database holds. The progress texts are compressed with
// lz4 where PostgreSQL has it (Debian's has): the whole list reads about a quarter faster
// than with pglz (bench/run registry-progress). An edition's revision rises
// with every `module add`, so parsed definitions are kept until it changes. A database
// that already holds events has every attendee marked stale here: serve builds their
// summaries in the background, and reads build what they need first.
constexpr std::string_view kSchema3 = R"sql(
ALTER TABLE module_editions ADD COLUMN revision bigint NOT NULL DEFAULT 1;
CREATE TABLE attendee_progress (
    attendee_id         text PRIMARY KEY,
    cycle_complete      boolean NOT NULL,
    cycle_completed_at  timestamptz,
    progress            text NOT NULL
);
CREATE TABLE edition_progress (
    attendee_id          text NOT NULL,
    module_id            text NOT NULL,
    in_roster            boolean NOT NULL,
    sessions_attended    integer NOT NULL,
    sessions_total       integer NOT NULL,
    attendance_complete  boolean NOT NULL,
    cme_credits          double precision NOT NULL,
    completed_at         timestamptz,
    PRIMARY KEY (attendee_id, module_id)
);
CREATE INDEX edition_progress_module ON edition_progress (module_id, attendee_id);
CREATE TABLE stale_attendees (
    attendee_id  text PRIMARY KEY,
    marked_at    timestamptz NOT NULL DEFAULT now()
);
INSERT INTO stale_attendees (attendee_id)
    SELECT id FROM attendees UNION SELECT DISTINCT attendee_id FROM events ORDER BY 1;
DO $$ BEGIN
    ALTER TABLE attendee_progress ALTER COLUMN progress SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported THEN NULL;
END $$;
)sql";

// Version 4: each attendee's cycle state as a short text (progress.hpp cycle_state_to_json),
// what the office's list of everyone reads: about 150 bytes an attendee where the whole
// progress is 2 kB. Existing summaries are marked stale to get theirs.
constexpr std::string_view kSchema4 = R"sql(
ALTER TABLE attendee_progress ADD COLUMN cycle_state text;
INSERT INTO stale_attendees (attendee_id)
    SELECT attendee_id FROM attendee_progress ON CONFLICT DO NOTHING;
)sql";

constexpr std::array<Migration, 4> kMigrations{{
    {1, "editions, rosters, devices and the event log", kSchema1},
    {2, "badge-signing keys, badge issues, revocations and staff accounts", kSchema2},
    {3, "progress summaries and the attendees whose summaries are stale", kSchema3},
    {4, "each attendee's cycle state in short", kSchema4},
}};

// Any constant: the registry's migrations hold this advisory lock while they run.
constexpr std::string_view kMigrationLock = "7204315586211";

constexpr std::string_view kVersionTable = R"sql(
CREATE TABLE IF NOT EXISTS schema_migrations (
    version     integer PRIMARY KEY,
    name        text NOT NULL,
    applied_at  timestamptz NOT NULL DEFAULT now()
))sql";

Result<int> read_version(Database& db)
{
    auto rows = db.exec("SELECT coalesce(max(version), 0) FROM schema_migrations");
    if (!rows) return rows.status();
    return std::stoi(rows->text(0, 0));
}

Status too_new(int found)
{
    return Status::error(err::store_too_new,
                         "the database's schema is at version " + std::to_string(found) +
                             ", newer than this course-registry knows (" +
                             std::to_string(latest_schema_version()) + ")",
                         "Run the course-registry that migrated it, or a newer one.");
}

}  // namespace

std::span<const Migration> migrations() { return kMigrations; }

int latest_schema_version() { return kMigrations.back().version; }

Result<int> schema_version(Database& db)
{
    auto exists = db.exec("SELECT to_regclass('schema_migrations') IS NOT NULL");
    if (!exists) return exists.status();
    if (exists->text(0, 0) != "t") return 0;
    return read_version(db);
}

Result<MigrateOutcome> migrate(Database& db)
{
    if (Status s = db.exec_script("BEGIN"); !s) return s;
    auto fail = [&db](Status s) -> Result<MigrateOutcome> {
        (void)db.exec_script("ROLLBACK");
        return s;
    };
    if (auto r = db.exec("SELECT pg_advisory_xact_lock($1::bigint)", {std::string(kMigrationLock)});
        !r) {
        return fail(r.status());
    }
    if (Status s = db.exec_script(std::string(kVersionTable)); !s) return fail(s);
    auto found = read_version(db);
    if (!found) return fail(found.status());
    MigrateOutcome outcome{*found, *found};
    if (*found > latest_schema_version()) return fail(too_new(*found));
    for (const Migration& m : kMigrations) {
        if (m.version <= *found) continue;
        if (Status s = db.exec_script(std::string(m.sql)); !s) {
            return fail(Status::error(err::storage_error, "migration " + std::to_string(m.version) +
                                                              " failed: " + s.message()));
        }
        if (auto r = db.exec("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
                             {std::to_string(m.version), std::string(m.name)});
            !r) {
            return fail(r.status());
        }
        outcome.to_version = m.version;
    }
    if (Status s = db.exec_script("COMMIT"); !s) return s;
    return outcome;
}

}  // namespace ck::registry

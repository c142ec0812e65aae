// The progress the office and the commands read (SPEC section 9), kept computed in
// PostgreSQL so that a read costs a row, not a replay of the attendee's events.
//
// Tables (migration 3): attendee_progress holds per attendee the answer of
// GET /api/v1/attendees/{id}/progress as JSON text and the cycle state; edition_progress
// per attendee and edition the export's figures; stale_attendees the attendees whose
// summaries may be behind what the database holds.
//
// The contract, across any number of registry processes on one database:
//   - whatever changes an attendee's progress marks them stale in its own transaction: a
//     stored batch (its attendees), a roster import (its rows), `module add` (every
//     attendee of the edition);
//   - a refresh recomputes an attendee from all their events and the editions'
//     definitions (model/progress.hpp, the rules of core/attendance.hpp) and removes the
//     mark in one transaction that holds the mark's row lock: a batch that commits
//     meanwhile waits for that lock and marks the attendee again;
//   - a read refreshes what is stale first, so it reflects every change committed before
//     it began. serve also refreshes in the background, so reads seldom have to.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

#include "core/status.hpp"
#include "db/pg.hpp"
#include "db/pool.hpp"
#include "model/progress.hpp"

namespace ck::registry {

// Marks the attendees stale, in the caller's transaction. The database orders the rows it
// locks, so two transactions marking overlapping sets cannot deadlock. A refresh of one of
// them under way makes this wait until it commits; the new mark then stands.
Status mark_stale(Database& db, const std::vector<std::string>& attendee_ids);

// For `module add`, in its transaction, before the definition changes: waits for the
// refreshes under way (each keeps the definitions it read until it commits) and keeps new
// ones from starting until the caller's transaction ends.
Status lock_edition_definitions(Database& db);

// Marks stale every attendee of the edition: in its roster or summarised with it (an
// attendee with its events has a summary of it or is stale already). In the caller's
// transaction, after lock_edition_definitions.
Status mark_edition_stale(Database& db, const std::string& module_id);

// Which attendees a list holds.
struct ProgressFilter {
    std::optional<bool> cycle_complete;
    std::string module_id;  // "": all; else those in its roster or with its events
    bool cycle_states_only =
        false;  // the short cycle state (cycle_state_to_json), not the progress
};

// Row `r` of an export cursor as the export has it (SPEC section 9):
// {"attendee_id","name","module_id","sessions_attended","sessions_total",
//  "attendance_complete","cme_credits","completed_at"}.
nlohmann::json export_row(const Rows& rows, int r);
// The export as CSV (UTF-8 with BOM, `separator` ';' or ',', core/csv.hpp): its head (BOM
// and column names), then one line per row.
std::string export_csv_head(char separator);
std::string export_csv_line(const nlohmann::json& row, char separator);

// What verify_summaries found.
struct SummaryCheck {
    int checked = 0;                  // attendees compared
    int stale = 0;                    // of those, marked stale (their reads refresh first)
    std::vector<std::string> differ;  // not stale, yet their summaries are not their events'
};

// Computes the progress of `ids` (every attendee the registry knows when empty) from their
// events and compares it with their summaries, all in one snapshot: the summaries of an
// attendee not marked stale must be exactly what the events give (`progress --verify`).
Result<SummaryCheck> verify_summaries(Database& db, const std::vector<std::string>& ids,
                                      const ZoneLookup& zones);

class ProgressSummaries {
public:
    explicit ProgressSummaries(ZoneLookup zones);

    // Refreshes every attendee marked stale before the call (waiting for refreshes of
    // them under way elsewhere).
    Status refresh_all(Database& db);

    // GET /api/v1/attendees/{id}/progress as JSON text, refreshed first when stale;
    // not_found for an attendee the registry has never heard of.
    Result<std::string> progress_json(Database& db, const std::string& attendee_id);

    // The progress JSON text (column 0; the cycle state's with cycle_states_only) of the
    // attendees `filter` selects, in id order, as
    // a cursor on `db` (db/pg.hpp); everything stale is refreshed first.
    Result<Cursor> open_list(Database& db, const ProgressFilter& filter);

    // The export's rows (export_row), one per attendee and edition, of every edition or
    // of `module_id`, in attendee and edition order, as a cursor on `db`; everything stale
    // is refreshed first. An unknown `module_id`: unknown_module.
    Result<Cursor> open_export(Database& db, const std::string& module_id);

    // serve's background refresher: refreshes stale attendees a chunk at a time until
    // `stop`. It gives way to this process's batches: a chunk holds its attendees' marks
    // until it commits, and a batch marking one of them would wait for it. So it starts once
    // no batch has been applied for a moment, and looks again at least every second.
    void refresh_in_background(ConnectionPool& pool, std::stop_token stop);

    // Held while a batch is applied (the background refresher waits meanwhile).
    class BatchInFlight {
    public:
        explicit BatchInFlight(ProgressSummaries& summaries);
        ~BatchInFlight();
        BatchInFlight(const BatchInFlight&) = delete;
        BatchInFlight& operator=(const BatchInFlight&) = delete;

    private:
        ProgressSummaries& summaries_;
    };

private:
    Result<int> refresh_chunk(Database& db, const std::vector<std::string>& ids, bool skip_locked);
    Result<int> recompute(Database& db, const std::vector<std::string>& ids);

    EditionCatalog editions_;
    std::mutex mutex_;  // guards what follows
    std::condition_variable_any batches_;
    int batches_in_flight_ = 0;
    std::chrono::steady_clock::time_point last_batch_{};
};

}  // namespace ck::registry

#include "model/progress_summaries.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <set>

#include "core/csv.hpp"
#include "log/log.hpp"

namespace ck::registry {

namespace {

// Held shared by every refresh until it commits, exclusively by `module add`: a refresh
// never mixes a definition with summaries the definition's change has already marked.
constexpr std::string_view kDefinitionsLock = "7204315586212";

// Attendees per refresh transaction: a batch that marks one of them waits for the whole
// transaction, so it stays short (tens of milliseconds).
constexpr std::size_t kChunk = 200;

// PostgreSQL's codes for a deadlock and a serialization failure: the transaction is
// rolled back and may simply run again.
bool retryable(const std::string& sqlstate) { return sqlstate == "40P01" || sqlstate == "40001"; }

std::string dump(const nlohmann::json& j)
{
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

Status mark_stale(Database& db, const std::vector<std::string>& attendee_ids)
{
    if (attendee_ids.empty()) return Status::ok();
    // DO UPDATE, not DO NOTHING: it locks a mark already there, so it waits for a refresh
    // holding that mark and, once the refresh has deleted it, inserts a new one; or it
    // keeps a refresh from taking the mark until this transaction ends. The WHERE leaves a
    // mark that is there as it is (marked_at: stale since), locked but not rewritten.
    auto marked = db.exec(
        "INSERT INTO stale_attendees (attendee_id) "
        "SELECT DISTINCT a FROM unnest($1::text[]) AS a ORDER BY 1 "
        "ON CONFLICT (attendee_id) DO UPDATE SET marked_at = excluded.marked_at WHERE false",
        {text_array(attendee_ids)});
    return marked ? Status::ok() : marked.status();
}

Status lock_edition_definitions(Database& db)
{
    auto locked =
        db.exec("SELECT pg_advisory_xact_lock($1::bigint)", {std::string(kDefinitionsLock)});
    return locked ? Status::ok() : locked.status();
}

Status mark_edition_stale(Database& db, const std::string& module_id)
{
    auto marked = db.exec(
        "INSERT INTO stale_attendees (attendee_id) "
        "SELECT attendee_id FROM edition_progress WHERE module_id = $1 "
        "UNION SELECT attendee_id FROM roster_entries WHERE module_id = $1 ORDER BY 1 "
        "ON CONFLICT (attendee_id) DO UPDATE SET marked_at = excluded.marked_at WHERE false",
        {module_id});
    return marked ? Status::ok() : marked.status();
}

ProgressSummaries::ProgressSummaries(ZoneLookup zones) : editions_(std::move(zones)) {}

Result<int> ProgressSummaries::recompute(Database& db, const std::vector<std::string>& ids)
{
    auto editions = editions_.current(db);
    if (!editions) return editions.status();
    auto facts = load_facts(db, ids);
    if (!facts) return facts.status();
    nlohmann::json edition_rows = nlohmann::json::array();
    nlohmann::json attendee_rows = nlohmann::json::array();
    for (const AttendeeFacts& f : *facts) {
        auto progress = compute_progress(f, *editions);
        if (!progress) {
            if (progress.status().code() == "not_found") continue;  // its rows go
            return progress.status();
        }
        for (const EditionProgress& e : progress->editions) {
            const auto& result = e.attendance.result;
            edition_rows.push_back({{"a", f.attendee_id},
                                    {"m", e.module_id},
                                    {"r", e.in_roster},
                                    {"s", result.sessions_attended},
                                    {"t", result.sessions_total},
                                    {"c", result.attendance_complete},
                                    {"k", result.cme_credits},
                                    {"at", time_or_null(e.attendance.completed_at)}});
        }
        attendee_rows.push_back({{"a", f.attendee_id},
                                 {"c", progress->cycle_complete},
                                 {"at", time_or_null(progress->cycle_completed_at)},
                                 {"p", dump(progress_to_json(*progress))},
                                 {"s", dump(cycle_state_to_json(*progress))}});
    }
    const std::string id_array = text_array(ids);
    for (const char* sql : {"DELETE FROM edition_progress WHERE attendee_id = ANY($1)",
                            "DELETE FROM attendee_progress WHERE attendee_id = ANY($1)",
                            "DELETE FROM stale_attendees WHERE attendee_id = ANY($1)"}) {
        if (auto done = db.exec(sql, {id_array}); !done) return done.status();
    }
    auto inserted = db.exec(
        "INSERT INTO edition_progress (attendee_id, module_id, in_roster, sessions_attended, "
        "sessions_total, attendance_complete, cme_credits, completed_at) "
        "SELECT a, m, r, s, t, c, k, at FROM jsonb_to_recordset($1::jsonb) AS "
        "x(a text, m text, r boolean, s integer, t integer, c boolean, k double precision, "
        "at timestamptz)",
        {dump(edition_rows)});
    if (!inserted) return inserted.status();
    inserted = db.exec(
        "INSERT INTO attendee_progress (attendee_id, cycle_complete, cycle_completed_at, "
        "progress, cycle_state) SELECT a, c, at, p, s FROM jsonb_to_recordset($1::jsonb) AS "
        "x(a text, c boolean, at timestamptz, p text, s text)",
        {dump(attendee_rows)});
    if (!inserted) return inserted.status();
    return static_cast<int>(ids.size());
}

// `ids` empty: any stale attendees (at most kChunk) that nobody else holds.
Result<int> ProgressSummaries::refresh_chunk(Database& db, const std::vector<std::string>& ids,
                                             bool skip_locked)
{
    for (int attempt = 0;; ++attempt) {
        int refreshed = 0;
        std::string sqlstate;
        auto body = [&]() -> Status {
            // Summaries are derived: a crash that loses this commit loses its mark's
            // removal with it, and the attendee is refreshed again.
            if (Status off = db.exec_script("SET LOCAL synchronous_commit = off"); !off) {
                return off;
            }
            auto shared = db.exec("SELECT pg_advisory_xact_lock_shared($1::bigint)",
                                  {std::string(kDefinitionsLock)});
            if (!shared) return shared.status();
            std::string lock_sql =
                "SELECT attendee_id FROM stale_attendees WHERE attendee_id = ANY($1) "
                "ORDER BY attendee_id FOR UPDATE";
            if (skip_locked) lock_sql += " SKIP LOCKED";
            std::vector<std::optional<std::string>> params{text_array(ids)};
            if (ids.empty()) {
                lock_sql = "SELECT attendee_id FROM stale_attendees ORDER BY attendee_id LIMIT " +
                           std::to_string(kChunk) + " FOR UPDATE SKIP LOCKED";
                params.clear();
            }
            auto locked = db.exec(lock_sql, params);
            if (!locked) return locked.status();
            std::vector<std::string> held;
            for (int r = 0; r < locked->count(); ++r) held.push_back(locked->text(r, 0));
            if (held.empty()) return Status::ok();
            auto done = recompute(db, held);
            if (!done) return done.status();
            refreshed = *done;
            return Status::ok();
        };
        Status s = in_transaction(db, [&] {
            Status done = body();
            if (!done) sqlstate = db.last_sqlstate();
            return done;
        });
        if (s) return refreshed;
        if (!retryable(sqlstate) || attempt == 2) return s;
    }
}

Status ProgressSummaries::refresh_all(Database& db)
{
    // The marks committed before this call; those marked later are the next read's.
    auto stale = db.exec("SELECT attendee_id FROM stale_attendees ORDER BY attendee_id");
    if (!stale) return stale.status();
    std::vector<std::vector<std::string>> held_elsewhere;
    for (int r = 0; r < stale->count(); r += static_cast<int>(kChunk)) {
        std::vector<std::string> chunk;
        for (int i = r; i < std::min(stale->count(), r + static_cast<int>(kChunk)); ++i) {
            chunk.push_back(stale->text(i, 0));
        }
        // First those nobody else holds; then, waiting, the rest (another process's
        // refresh, or a batch marking them again), unless they are fresh by then.
        auto done = refresh_chunk(db, chunk, true);
        if (!done) return done.status();
        if (*done < static_cast<int>(chunk.size())) held_elsewhere.push_back(std::move(chunk));
    }
    for (const auto& chunk : held_elsewhere) {
        if (auto done = refresh_chunk(db, chunk, false); !done) return done.status();
    }
    return Status::ok();
}

Result<std::string> ProgressSummaries::progress_json(Database& db, const std::string& attendee_id)
{
    const char* sql =
        "SELECT (SELECT progress FROM attendee_progress WHERE attendee_id = $1), "
        "EXISTS (SELECT 1 FROM stale_attendees WHERE attendee_id = $1)";
    auto row = db.exec(sql, {attendee_id});
    if (!row) return row.status();
    if (row->text(0, 1) == "t") {
        if (auto done = refresh_chunk(db, {attendee_id}, false); !done) return done.status();
        row = db.exec(sql, {attendee_id});
        if (!row) return row.status();
    }
    auto progress = row->get(0, 0);
    if (!progress) {
        return Status::error(err::not_found, "The registry knows no attendee " + attendee_id + ".",
                             "Check the registration number.");
    }
    return std::move(*progress);
}

Result<Cursor> ProgressSummaries::open_list(Database& db, const ProgressFilter& filter)
{
    if (Status s = refresh_all(db); !s) return s;
    std::string sql = filter.cycle_states_only ? "SELECT cycle_state FROM attendee_progress p"
                                               : "SELECT progress FROM attendee_progress p";
    std::vector<std::optional<std::string>> params;
    std::string where;
    if (filter.cycle_complete) {
        params.emplace_back(*filter.cycle_complete ? "true" : "false");
        where = "p.cycle_complete = $1::boolean";
    }
    if (!filter.module_id.empty()) {
        params.push_back(filter.module_id);
        if (!where.empty()) where += " AND ";
        where += "p.attendee_id IN (SELECT attendee_id FROM edition_progress WHERE module_id = $" +
                 std::to_string(params.size()) + ")";
    }
    if (!where.empty()) sql += " WHERE " + where;
    sql += " ORDER BY p.attendee_id";
    return Cursor::open(db, sql, params);
}

Result<Cursor> ProgressSummaries::open_export(Database& db, const std::string& module_id)
{
    if (!module_id.empty()) {
        auto edition = db.exec("SELECT 1 FROM module_editions WHERE id = $1", {module_id});
        if (!edition) return edition.status();
        if (edition->count() == 0) {
            return Status::error(err::unknown_module, "no module edition " + module_id);
        }
    }
    if (Status s = refresh_all(db); !s) return s;
    std::string sql =
        "SELECT e.attendee_id, coalesce(a.family_name, ''), coalesce(a.given_name, ''), "
        "e.module_id, e.sessions_attended, e.sessions_total, e.attendance_complete, "
        "e.cme_credits, extract(epoch FROM e.completed_at)::bigint "
        "FROM edition_progress e LEFT JOIN attendees a ON a.id = e.attendee_id ";
    std::vector<std::optional<std::string>> params;
    if (!module_id.empty()) {
        sql += "WHERE e.module_id = $1 ";
        params.push_back(module_id);
    }
    sql += "ORDER BY e.attendee_id, e.module_id COLLATE \"C\"";
    return Cursor::open(db, sql, params);
}

nlohmann::json export_row(const Rows& rows, int r)
{
    auto completed = rows.get(r, 8);
    return {{"attendee_id", rows.text(r, 0)},
            {"name", attendee_name(rows.text(r, 1), rows.text(r, 2))},
            {"module_id", rows.text(r, 3)},
            {"sessions_attended", std::stoi(rows.text(r, 4))},
            {"sessions_total", std::stoi(rows.text(r, 5))},
            {"attendance_complete", rows.text(r, 6) == "t"},
            {"cme_credits", std::stod(rows.text(r, 7))},
            {"completed_at", completed ? nlohmann::json(format_rfc3339_utc(
                                             Instant{std::chrono::seconds(std::stoll(*completed))}))
                                       : nlohmann::json(nullptr)}};
}

namespace {

constexpr const char* kExportColumns[] = {
    "attendee_id",         "name",        "module_id",   "sessions_attended", "sessions_total",
    "attendance_complete", "cme_credits", "completed_at"};

}  // namespace

std::string export_csv_head(char separator)
{
    std::string out(kUtf8Bom);
    for (const char* column : kExportColumns) {
        if (column != kExportColumns[0]) out += separator;
        out += column;
    }
    return out + "\r\n";
}

std::string export_csv_line(const nlohmann::json& row, char separator)
{
    std::string out;
    bool first = true;
    for (const char* column : kExportColumns) {
        if (!first) out += separator;
        first = false;
        const auto& v = row[column];
        if (v.is_string()) {
            out += csv_field(v.get<std::string>(), separator);
        } else if (v.is_boolean()) {
            out += v.get<bool>() ? "yes" : "no";
        } else if (v.is_number_float()) {
            out += csv_number(v.get<double>(), separator);
        } else if (v.is_number()) {
            out += v.dump();
        }
    }
    return out + "\r\n";
}

namespace {

// An edition's summary as a comparable line.
std::string edition_line(const std::string& module_id, bool in_roster, int attended, int total,
                         bool complete, double credits, const std::optional<Instant>& at)
{
    char credits_text[32];
    std::snprintf(credits_text, sizeof credits_text, "%.3f", credits);
    return module_id + (in_roster ? "|t|" : "|f|") + std::to_string(attended) + "|" +
           std::to_string(total) + (complete ? "|t|" : "|f|") + credits_text + "|" +
           (at ? format_rfc3339_utc(*at) : "");
}

Status check_chunk(Database& db, const std::vector<std::string>& ids,
                   const EditionCatalog::Snapshot& editions, SummaryCheck& check)
{
    const std::string id_array = text_array(ids);
    auto stale =
        db.exec("SELECT attendee_id FROM stale_attendees WHERE attendee_id = ANY($1)", {id_array});
    if (!stale) return stale.status();
    std::set<std::string> stale_ids;
    for (int r = 0; r < stale->count(); ++r) stale_ids.insert(stale->text(r, 0));
    auto stored = db.exec(
        "SELECT attendee_id, progress || '\n' || coalesce(cycle_state, '') "
        "FROM attendee_progress WHERE attendee_id = ANY($1)",
        {id_array});
    if (!stored) return stored.status();
    std::map<std::string, std::string> stored_progress;
    for (int r = 0; r < stored->count(); ++r) {
        stored_progress[stored->text(r, 0)] = stored->text(r, 1);
    }
    auto lines = db.exec(
        "SELECT attendee_id, module_id, in_roster, sessions_attended, sessions_total, "
        "attendance_complete, cme_credits, extract(epoch FROM completed_at)::bigint "
        "FROM edition_progress WHERE attendee_id = ANY($1) ORDER BY module_id COLLATE \"C\"",
        {id_array});
    if (!lines) return lines.status();
    std::map<std::string, std::vector<std::string>> stored_lines;
    for (int r = 0; r < lines->count(); ++r) {
        auto at = lines->get(r, 7);
        stored_lines[lines->text(r, 0)].push_back(edition_line(
            lines->text(r, 1), lines->text(r, 2) == "t", std::stoi(lines->text(r, 3)),
            std::stoi(lines->text(r, 4)), lines->text(r, 5) == "t", std::stod(lines->text(r, 6)),
            at ? std::optional<Instant>(Instant{std::chrono::seconds(std::stoll(*at))})
               : std::nullopt));
    }
    auto facts = load_facts(db, ids);
    if (!facts) return facts.status();
    for (const AttendeeFacts& f : *facts) {
        ++check.checked;
        if (stale_ids.count(f.attendee_id) != 0) {
            ++check.stale;
            continue;
        }
        auto progress = compute_progress(f, editions);
        std::optional<std::string> expected;
        std::vector<std::string> expected_lines;
        if (progress) {
            expected =
                dump(progress_to_json(*progress)) + "\n" + dump(cycle_state_to_json(*progress));
            for (const EditionProgress& e : progress->editions) {
                const auto& result = e.attendance.result;
                expected_lines.push_back(edition_line(
                    e.module_id, e.in_roster, result.sessions_attended, result.sessions_total,
                    result.attendance_complete, result.cme_credits, e.attendance.completed_at));
            }
        } else if (progress.status().code() != "not_found") {
            return progress.status();
        }
        auto it = stored_progress.find(f.attendee_id);
        const std::optional<std::string> held =
            it == stored_progress.end() ? std::nullopt : std::optional<std::string>(it->second);
        if (held != expected || stored_lines[f.attendee_id] != expected_lines) {
            check.differ.push_back(f.attendee_id);
        }
    }
    return Status::ok();
}

}  // namespace

Result<SummaryCheck> verify_summaries(Database& db, const std::vector<std::string>& ids,
                                      const ZoneLookup& zones)
{
    if (Status s = db.exec_script("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"); !s) return s;
    SummaryCheck check;
    Status s = [&]() -> Status {
        std::vector<std::string> all = ids;
        if (all.empty()) {
            auto rows = db.exec(
                "SELECT id FROM attendees UNION SELECT DISTINCT attendee_id FROM events "
                "UNION SELECT attendee_id FROM attendee_progress ORDER BY 1");
            if (!rows) return rows.status();
            for (int r = 0; r < rows->count(); ++r) all.push_back(rows->text(r, 0));
        }
        EditionCatalog catalog(zones);
        auto editions = catalog.current(db);
        if (!editions) return editions.status();
        for (std::size_t i = 0; i < all.size(); i += kChunk) {
            const std::vector<std::string> chunk(
                all.begin() + static_cast<std::ptrdiff_t>(i),
                all.begin() + static_cast<std::ptrdiff_t>(std::min(all.size(), i + kChunk)));
            if (Status c = check_chunk(db, chunk, *editions, check); !c) return c;
        }
        return Status::ok();
    }();
    (void)db.exec_script(s ? "COMMIT" : "ROLLBACK");
    if (!s) return s;
    return check;
}

ProgressSummaries::BatchInFlight::BatchInFlight(ProgressSummaries& summaries)
    : summaries_(summaries)
{
    std::lock_guard lock(summaries_.mutex_);
    ++summaries_.batches_in_flight_;
}

ProgressSummaries::BatchInFlight::~BatchInFlight()
{
    {
        std::lock_guard lock(summaries_.mutex_);
        --summaries_.batches_in_flight_;
        summaries_.last_batch_ = std::chrono::steady_clock::now();
    }
    summaries_.batches_.notify_all();
}

void ProgressSummaries::refresh_in_background(ConnectionPool& pool, std::stop_token stop)
{
    // A device sends its next batch as soon as the last is acknowledged: the quiet moment
    // is longer than that gap, so a stream of batches keeps the refresher waiting.
    constexpr auto kQuiet = std::chrono::milliseconds(300);
    constexpr auto kIdle = std::chrono::seconds(1);
    constexpr auto kAfterError = std::chrono::seconds(5);
    while (!stop.stop_requested()) {
        {
            std::unique_lock lock(mutex_);
            for (;;) {
                const auto since = std::chrono::steady_clock::now() - last_batch_;
                if (batches_in_flight_ == 0 && since >= kQuiet) break;
                const auto wait = batches_in_flight_ > 0
                                      ? std::chrono::steady_clock::duration(kIdle)
                                      : kQuiet - since;
                const auto last = last_batch_;
                batches_.wait_for(lock, stop, wait, [&] { return last_batch_ != last; });
                if (stop.stop_requested()) return;
            }
        }
        bool failed = false;
        int done = 0;
        if (auto lease = pool.acquire(); lease) {
            auto refreshed = refresh_chunk(**lease, {}, true);
            if (refreshed) {
                done = *refreshed;
            } else {
                failed = true;
                CK_WARN("progress", "refreshing the progress summaries failed: "
                                        << refreshed.status().message());
            }
        } else {
            failed = true;  // PostgreSQL away: reads answer 503 meanwhile
        }
        if (done > 0) continue;
        // Nothing stale (or a failure): again after a while, or as soon as a batch ends.
        std::unique_lock lock(mutex_);
        const auto last = last_batch_;
        batches_.wait_for(lock, stop, failed ? kAfterError : kIdle,
                          [&] { return last_batch_ != last; });
    }
}

}  // namespace ck::registry

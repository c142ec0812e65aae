#include "model/rosters.hpp"

#include <optional>

#include "core/password.hpp"
#include "model/badges.hpp"
#include "model/progress_summaries.hpp"

namespace ck::registry {

namespace {

std::optional<std::string> or_null(const std::string& text)
{
    if (text.empty()) return std::nullopt;
    return text;
}

}  // namespace

Result<RosterImport> import_roster(Database& db, const std::string& module_id,
                                   std::string_view file_name, std::string_view text)
{
    bool json = file_name.size() >= 5 && file_name.substr(file_name.size() - 5) == ".json";
    RosterImport import = json ? parse_roster_json(text) : parse_roster_csv(text);
    if (!import.file_error.empty()) {
        return Status::error(err::bad_roster, std::string(file_name) + ": " + import.file_error);
    }
    auto edition = db.exec("SELECT 1 FROM module_editions WHERE id = $1", {module_id});
    if (!edition) return edition.status();
    if (edition->count() == 0) {
        return Status::error(err::not_found, "no module edition " + module_id,
                             "Add it first: course-registry module add FILE.json");
    }
    if (Status s = db.exec_script("BEGIN"); !s) return s;
    for (const Attendee& a : import.accepted) {
        auto person = db.exec(
            "INSERT INTO attendees (id, family_name, given_name, email, country) "
            "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO UPDATE SET "
            "family_name = excluded.family_name, given_name = excluded.given_name, "
            "email = excluded.email, country = excluded.country",
            {a.id, a.family_name, a.given_name, or_null(a.email), or_null(a.country)});
        auto entry = person ? db.exec(
                                  "INSERT INTO roster_entries (module_id, attendee_id) "
                                  "VALUES ($1, $2) ON CONFLICT DO NOTHING",
                                  {module_id, a.id})
                            : person;
        if (!entry) {
            (void)db.exec_script("ROLLBACK");
            return entry.status();
        }
    }
    // Names and rosters are part of the attendees' progress (model/progress_summaries.hpp).
    std::vector<std::string> ids;
    for (const Attendee& a : import.accepted) ids.push_back(a.id);
    if (Status s = mark_stale(db, ids); !s) {
        (void)db.exec_script("ROLLBACK");
        return s;
    }
    if (Status s = db.exec_script("COMMIT"); !s) return s;
    return import;
}

Result<RosterSnapshot> roster_snapshot(Database& db, const std::string& module_id)
{
    auto edition = db.exec("SELECT 1 FROM module_editions WHERE id = $1", {module_id});
    if (!edition) return edition.status();
    if (edition->count() == 0) {
        return Status::error(err::unknown_module,
                             "The registry has no module edition " + module_id + ".",
                             "Check module.cycle and module.number in the device's config.");
    }
    auto rows = db.exec(
        "SELECT a.id, a.family_name, a.given_name, a.email, a.country "
        "FROM roster_entries r JOIN attendees a ON a.id = r.attendee_id "
        "WHERE r.module_id = $1 ORDER BY a.id",
        {module_id});
    if (!rows) return rows.status();
    auto optional_text = [](const std::optional<std::string>& v) -> nlohmann::json {
        return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
    };
    nlohmann::json attendees = nlohmann::json::array();
    for (int r = 0; r < rows->count(); ++r) {
        attendees.push_back({{"id", rows->text(r, 0)},
                             {"family_name", rows->text(r, 1)},
                             {"given_name", rows->text(r, 2)},
                             {"email", optional_text(rows->get(r, 3))},
                             {"country", optional_text(rows->get(r, 4))}});
    }
    auto revoked = revoked_json(db, module_id);
    if (!revoked) return revoked.status();
    auto keys = trusted_keys_json(db);
    if (!keys) return keys.status();
    RosterSnapshot snapshot;
    snapshot.body = {{"module_id", module_id},
                     {"attendees", std::move(attendees)},
                     {"revoked", std::move(*revoked)},
                     {"keys", std::move(*keys)}};
    snapshot.etag = "\"" + sha256_hex(snapshot.body.dump()).substr(0, 20) + "\"";
    return snapshot;
}

}  // namespace ck::registry

#include "model/editions.hpp"

#include "model/progress_summaries.hpp"

namespace ck::registry {

Result<AddedEdition> add_edition(Database& db, const nlohmann::json& module_json,
                                 const ZoneLookup& zones)
{
    auto edition = parse_module(module_json, zones);
    if (!edition) return edition.status();
    AddedEdition added{edition->id(), false};
    // The new definition, and every summary computed with the old one marked stale, in one
    // transaction (model/progress_summaries.hpp).
    Status s = in_transaction(db, [&]() -> Status {
        if (Status locked = lock_edition_definitions(db); !locked) return locked;
        auto rows = db.exec(
            "INSERT INTO module_editions (id, cycle, number, venue, config) "
            "VALUES ($1, $2, $3, $4, $5::jsonb) "
            "ON CONFLICT (id) DO UPDATE SET cycle = excluded.cycle, number = excluded.number, "
            "venue = excluded.venue, config = excluded.config, "
            "revision = module_editions.revision + 1 "
            "RETURNING (xmax <> 0)",
            {edition->id(), edition->cycle, std::to_string(edition->number), edition->venue,
             module_json.dump()});
        if (!rows) return rows.status();
        added.replaced = rows->text(0, 0) == "t";
        return added.replaced ? mark_edition_stale(db, edition->id()) : Status::ok();
    });
    if (!s) return s;
    return added;
}

}  // namespace ck::registry

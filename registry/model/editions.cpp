#include "model/editions.hpp"

namespace ck::registry {

Result<AddedEdition> add_edition(Database& db, const nlohmann::json& module_json,
                                 const ZoneLookup& zones)
{
    auto edition = parse_module(module_json, zones);
    if (!edition) return edition.status();
    auto rows = db.exec(
        "INSERT INTO module_editions (id, cycle, number, venue, config) "
        "VALUES ($1, $2, $3, $4, $5::jsonb) "
        "ON CONFLICT (id) DO UPDATE SET cycle = excluded.cycle, number = excluded.number, "
        "venue = excluded.venue, config = excluded.config "
        "RETURNING (xmax <> 0)",
        {edition->id(), edition->cycle, std::to_string(edition->number), edition->venue,
         module_json.dump()});
    if (!rows) return rows.status();
    return AddedEdition{edition->id(), rows->text(0, 0) == "t"};
}

}  // namespace ck::registry

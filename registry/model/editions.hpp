// Module editions at the registry: the `module` object of a device config, validated by
// the same core rules the device applies (core/module.hpp), stored whole.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "core/module.hpp"
#include "core/status.hpp"
#include "db/pg.hpp"

namespace ck::registry {

struct AddedEdition {
    std::string module_id;
    bool replaced = false;  // the edition existed and its definition was replaced
};

// Adds the edition `module_json` describes, or replaces the definition of one with the
// same id. An invalid object is Status invalid_config naming the JSON path.
Result<AddedEdition> add_edition(Database& db, const nlohmann::json& module_json,
                                 const ZoneLookup& zones);

}  // namespace ck::registry

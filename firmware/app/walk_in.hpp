// A walk-in: someone who is not in the roster, registered at the desk by course staff
// (POST /api/v1/attendees) so that they can be checked in and given a badge at once.
//
// The entry is read by the roster's own rules (core/roster.hpp, parse_roster_entry) and
// stored by the roster import's write path with its audit entry (Store::add_attendee), so
// a walk-in is an attendee like any other: their badge, check-ins, exports and
// completion record are the same. The registration number is required: it is the
// society's number that names the same person in every module edition (SPEC section 9),
// and the only thing the registry receives of them (check-in events carry the attendee
// id alone), so the device never makes one up.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "core/roster.hpp"
#include "core/status.hpp"

namespace ck {

class Device;

struct WalkInResult {
    // ok; invalid_attendee (`problem` says which field and rule); attendee_exists (the id
    // is in the roster, in any case: `existing`); the store's (storage_full...).
    Status status;
    Attendee attendee;         // ok: as stored (fields trimmed)
    RosterRowProblem problem;  // invalid_attendee
    Attendee existing;         // attendee_exists
};

// Adds `entry` (an object with id, family_name, given_name and optionally email,
// country: schemas/walk-in-request.schema.json) to the roster, audited as `staff`'s.
WalkInResult add_walk_in(Device& device, const nlohmann::json& entry, const std::string& staff);

}  // namespace ck

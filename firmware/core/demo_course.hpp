// The demos' fictitious course (SPEC sections 4 and 9), shared by `course-kiosk serve
// --demo` and `course-registry serve --demo`: forty attendees from across Europe and
// five-day module editions whose sessions cover whole days (00:00-12:00, 12:00-24:00
// local time), so a check-in works at any hour.
#pragma once

#include <date/date.h>

#include <cstddef>
#include <nlohmann/json.hpp>
#include <span>
#include <string>

namespace ck {

struct DemoPerson {
    const char* given;
    const char* family;
    const char* country;
};

// Forty people, names with accents on purpose (the search folds them).
std::span<const DemoPerson> demo_people();
// The id of demo_people()[index]: "A001", "A002", ...
std::string demo_attendee_id(std::size_t index);

// "2026-11-23".
std::string date_text(date::year_month_day day);
// The cycle a module starting on `day` belongs to: "2026-1" (January-June) or "2026-2".
std::string demo_cycle(date::year_month_day day);

// The `module` object of a device config: ECNR module `number` of `cycle` at `venue`, five
// days from `first_day` in time zone `zone`, two whole-day sessions of 3 CME hours a day.
nlohmann::json demo_module_json(date::year_month_day first_day, const std::string& zone,
                                const std::string& cycle, int number, const std::string& venue);

}  // namespace ck

#include "core/demo_course.hpp"

#include <cstdio>

namespace ck {
namespace {

constexpr DemoPerson kPeople[] = {
    {"Anna", "Kowalska", "PL"},    {"Lukas", "Müller", "DE"},       {"Sofia", "Rossi", "IT"},
    {"Mateo", "García", "ES"},     {"Chloé", "Dubois", "FR"},       {"Jan", "de Vries", "NL"},
    {"Ingrid", "Lindqvist", "SE"}, {"Mikkel", "Sørensen", "DK"},    {"Aoife", "Byrne", "IE"},
    {"Tomás", "Ó Briain", "IE"},   {"Eleni", "Papadopoulou", "GR"}, {"João", "Ferreira", "PT"},
    {"Zsófia", "Nagy", "HU"},      {"Petr", "Dvořák", "CZ"},        {"Ana", "Popescu", "RO"},
    {"Marta", "Horvat", "HR"},     {"Jonas", "Petrauskas", "LT"},   {"Liisa", "Tamm", "EE"},
    {"Emil", "Virtanen", "FI"},    {"Nora", "Hansen", "NO"},        {"Luca", "Bianchi", "IT"},
    {"Camille", "Lefèvre", "FR"},  {"Hugo", "Martín", "ES"},        {"Lena", "Gruber", "AT"},
    {"Noah", "Meier", "CH"},       {"Eva", "Novak", "SI"},          {"Milan", "Kovač", "SK"},
    {"Maja", "Jovanović", "RS"},   {"Georgi", "Ivanov", "BG"},      {"Olga", "Shevchenko", "UA"},
    {"Emma", "Janssens", "BE"},    {"Max", "Schmitz", "LU"},        {"Isla", "MacDonald", "GB"},
    {"Oliver", "Smith", "GB"},     {"Ayşe", "Yılmaz", "TR"},        {"Nikos", "Georgiou", "CY"},
    {"Laura", "Borg", "MT"},       {"Kārlis", "Bērziņš", "LV"},     {"Sara", "Łukasik", "PL"},
    {"Pierre", "Lambert", "FR"},
};

constexpr const char* kWeekdayLabel[] = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                         "Thursday", "Friday", "Saturday"};

}  // namespace

std::span<const DemoPerson> demo_people() { return kPeople; }

std::string demo_attendee_id(std::size_t index)
{
    char id[16];
    std::snprintf(id, sizeof id, "A%03zu", index + 1);
    return id;
}

std::string date_text(date::year_month_day day)
{
    char out[16];
    std::snprintf(out, sizeof out, "%04d-%02u-%02u", static_cast<int>(day.year()),
                  static_cast<unsigned>(day.month()), static_cast<unsigned>(day.day()));
    return out;
}

std::string demo_cycle(date::year_month_day day)
{
    return std::to_string(static_cast<int>(day.year())) +
           (static_cast<unsigned>(day.month()) <= 6 ? "-1" : "-2");
}

nlohmann::json demo_module_json(date::year_month_day first_day, const std::string& zone,
                                const std::string& cycle, int number, const std::string& venue)
{
    nlohmann::json days = nlohmann::json::array();
    for (int i = 0; i < 5; ++i) {
        auto day = date::sys_days(first_day) + date::days(i);
        std::string n = std::to_string(i + 1);
        std::string name = kWeekdayLabel[date::weekday(day).c_encoding()];
        days.push_back({{"date", date_text(date::year_month_day(day))},
                        {"sessions",
                         {{{"id", "d" + n + "-am"},
                           {"label", name + " morning"},
                           {"start", "00:00"},
                           {"end", "12:00"},
                           {"cme_hours", 3}},
                          {{"id", "d" + n + "-pm"},
                           {"label", name + " afternoon"},
                           {"start", "12:00"},
                           {"end", "24:00"},
                           {"cme_hours", 3}}}}});
    }
    return {{"cycle", cycle},
            {"number", number},
            {"venue", venue},
            {"timezone", zone},
            {"checkin_opens_before_min", 60},
            {"late_after_min", 240},  // sessions start at 00:00 and 12:00
            {"days", days}};
}

}  // namespace ck

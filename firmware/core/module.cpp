#include "core/module.hpp"

#include <date/date.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <exception>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <utility>

#include "core/schedule.hpp"
#include "core/time.hpp"

namespace ck {
namespace {

using nlohmann::json;

constexpr int kMaxDays = 7;
constexpr int kMaxSessionsPerDay = 6;
constexpr int kMaxWindowMin = 720;
constexpr double kMaxCmeHours = 12;
constexpr int kMinutesPerDay = 24 * 60;

Status invalid(const std::string& path, const std::string& what, std::string hint = {})
{
    if (hint.empty()) hint = "Fix the \"module\" object of the config file.";
    return Status::error(err::invalid_config, path + ": " + what, std::move(hint));
}

// The value of `key`, or nullptr when it is absent ("use the default"). A null value is
// present, and fails the type check like any other wrong type, as in the schema.
const json* member(const json& object, const char* key)
{
    const auto it = object.find(key);
    return it == object.end() ? nullptr : &*it;
}

// A misspelt key would otherwise silently fall back to a default.
Status reject_unknown_keys(const json& object, const std::string& path,
                           std::initializer_list<std::string_view> known)
{
    for (const auto& item : object.items()) {
        if (std::find(known.begin(), known.end(), item.key()) != known.end()) continue;
        std::string list;
        for (const auto key : known) list += (list.empty() ? "" : ", ") + std::string(key);
        return invalid(path + "." + item.key(), "is not a known key", "Known keys: " + list + ".");
    }
    return {};
}

// JSON Schema's notion of an integer: any number without a fractional part.
std::optional<long long> as_integer(const json& v)
{
    if (v.is_number_unsigned()) {
        const auto u = v.get<unsigned long long>();
        return u > 1'000'000'000ULL ? 1'000'000'000LL : static_cast<long long>(u);
    }
    if (v.is_number_integer()) return v.get<long long>();
    if (v.is_number_float()) {
        const double d = v.get<double>();
        if (std::isfinite(d) && std::floor(d) == d && std::fabs(d) < 1e9) {
            return static_cast<long long>(d);
        }
    }
    return std::nullopt;
}

Status read_int(const json& object, const std::string& path, const char* key, int lo, int hi,
                int& out)
{
    const json* v = member(object, key);
    if (v == nullptr) return {};
    const auto n = as_integer(*v);
    const std::string range =
        "must be an integer from " + std::to_string(lo) + " to " + std::to_string(hi);
    if (!n || *n < lo || *n > hi) return invalid(path + "." + key, range);
    out = static_cast<int>(*n);
    return {};
}

Status read_text(const json& object, const std::string& path, const char* key, std::string& out)
{
    const json* v = member(object, key);
    if (v == nullptr) return invalid(path + "." + key, "is required");
    if (!v->is_string()) return invalid(path + "." + key, "must be a string");
    out = v->get<std::string>();
    if (out.find_first_not_of(" \t\r\n") == std::string::npos) {
        return invalid(path + "." + key, "must not be empty");
    }
    return {};
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

bool is_cycle(std::string_view s)
{
    return s.size() == 6 && is_digit(s[0]) && is_digit(s[1]) && is_digit(s[2]) && is_digit(s[3]) &&
           s[4] == '-' && (s[5] == '1' || s[5] == '2');
}

bool is_session_id(std::string_view s)
{
    if (s.empty() || s.size() > 32) return false;
    const auto ok = [](char c) { return (c >= 'a' && c <= 'z') || is_digit(c); };
    if (!ok(s[0])) return false;
    for (char c : s.substr(1)) {
        if (!ok(c) && c != '_' && c != '-') return false;
    }
    return true;
}

int two_digits(std::string_view s, std::size_t pos)
{
    return (s[pos] - '0') * 10 + (s[pos + 1] - '0');
}

// "HH:MM" as minutes after midnight; "24:00" only when `allow_end_of_day`.
std::optional<int> parse_hhmm(std::string_view s, bool allow_end_of_day)
{
    if (s.size() != 5 || !is_digit(s[0]) || !is_digit(s[1]) || s[2] != ':' || !is_digit(s[3]) ||
        !is_digit(s[4]))
        return std::nullopt;
    const int h = two_digits(s, 0);
    const int m = two_digits(s, 3);
    if (allow_end_of_day && h == 24 && m == 0) return kMinutesPerDay;
    if (h > 23 || m > 59) return std::nullopt;
    return h * 60 + m;
}

std::string format_hhmm(int minutes)
{
    char buf[24];
    std::snprintf(buf, sizeof buf, "%02d:%02d", minutes / 60, minutes % 60);
    return buf;
}

Status read_time(const json& object, const std::string& path, const char* key, bool is_end,
                 int& out)
{
    std::string text;
    if (Status s = read_text(object, path, key, text); !s) return s;
    const auto minutes = parse_hhmm(text, is_end);
    if (!minutes) {
        return invalid(path + "." + key, "\"" + text + "\" is not a time of day",
                       is_end ? "Write \"HH:MM\" from \"00:00\" to \"24:00\"."
                              : "Write \"HH:MM\" from \"00:00\" to \"23:59\".");
    }
    out = *minutes;
    return {};
}

Status parse_session(const json& j, const std::string& path, std::set<std::string>& seen_ids,
                     SessionSpec& out)
{
    if (!j.is_object()) return invalid(path, "must be an object");
    if (Status s = reject_unknown_keys(j, path, {"id", "label", "start", "end", "cme_hours"}); !s)
        return s;
    if (Status s = read_text(j, path, "id", out.id); !s) return s;
    if (!is_session_id(out.id)) {
        return invalid(path + ".id", "\"" + out.id + "\" is not a valid session id",
                       "Use 1 to 32 characters a-z, 0-9, '_' or '-', starting with a letter "
                       "or digit, e.g. \"d1-am\".");
    }
    if (!seen_ids.insert(out.id).second) {
        return invalid(path + ".id", "\"" + out.id + "\" is used by another session",
                       "Give every session of the module its own id.");
    }
    if (Status s = read_text(j, path, "label", out.label); !s) return s;
    if (Status s = read_time(j, path, "start", false, out.start_min); !s) return s;
    if (Status s = read_time(j, path, "end", true, out.end_min); !s) return s;
    if (out.end_min <= out.start_min) {
        return invalid(path + ".end", "must be after start (" + format_hhmm(out.start_min) + ")");
    }
    const json* cme = member(j, "cme_hours");
    if (cme == nullptr) return invalid(path + ".cme_hours", "is required");
    if (!cme->is_number() || !std::isfinite(cme->get<double>()) || cme->get<double>() < 0 ||
        cme->get<double>() > kMaxCmeHours) {
        return invalid(path + ".cme_hours", "must be a number from 0 to 12");
    }
    out.cme_hours = cme->get<double>();
    return {};
}

std::optional<date::year_month_day> parse_date(std::string_view s)
{
    if (s.size() != 10 || s[4] != '-' || s[7] != '-') return std::nullopt;
    for (std::size_t i : {0u, 1u, 2u, 3u, 5u, 6u, 8u, 9u}) {
        if (!is_digit(s[i])) return std::nullopt;
    }
    const int year = two_digits(s, 0) * 100 + two_digits(s, 2);
    const date::year_month_day ymd{date::year{year},
                                   date::month{static_cast<unsigned>(two_digits(s, 5))},
                                   date::day{static_cast<unsigned>(two_digits(s, 8))}};
    if (!ymd.ok()) return std::nullopt;
    return ymd;
}

Status parse_day(const json& j, const std::string& path, std::set<std::string>& seen_ids,
                 DaySpec& out)
{
    if (!j.is_object()) return invalid(path, "must be an object");
    if (Status s = reject_unknown_keys(j, path, {"date", "sessions"}); !s) return s;
    std::string text;
    if (Status s = read_text(j, path, "date", text); !s) return s;
    const auto ymd = parse_date(text);
    if (!ymd) {
        return invalid(path + ".date", "\"" + text + "\" is not a valid date",
                       "Write \"YYYY-MM-DD\", e.g. \"2026-11-23\".");
    }
    out.year = static_cast<int>(ymd->year());
    out.month = static_cast<unsigned>(ymd->month());
    out.day = static_cast<unsigned>(ymd->day());

    const json* sessions = member(j, "sessions");
    if (sessions == nullptr) return invalid(path + ".sessions", "is required");
    if (!sessions->is_array()) return invalid(path + ".sessions", "must be an array");
    if (sessions->empty() || sessions->size() > kMaxSessionsPerDay) {
        return invalid(path + ".sessions", "must hold 1 to 6 sessions");
    }
    for (std::size_t i = 0; i < sessions->size(); ++i) {
        const std::string session_path = path + ".sessions[" + std::to_string(i) + "]";
        SessionSpec session;
        if (Status s = parse_session((*sessions)[i], session_path, seen_ids, session); !s) {
            return s;
        }
        if (!out.sessions.empty() && session.start_min < out.sessions.back().end_min) {
            return invalid(session_path + ".start",
                           "must not be before the end of the previous session (" +
                               format_hhmm(out.sessions.back().end_min) + ")",
                           "List the sessions of a day in time order, without overlap.");
        }
        out.sessions.push_back(std::move(session));
    }
    return {};
}

Status parse_attendance(const json& j, AttendanceOptions& out)
{
    const json* attendance = member(j, "attendance");
    if (attendance == nullptr) return {};
    const std::string path = "module.attendance";
    if (!attendance->is_object()) return invalid(path, "must be an object");
    if (Status s = reject_unknown_keys(*attendance, path,
                                       {"mode", "rescan_grace_s", "count_missing_exit"});
        !s)
        return s;
    if (const json* mode = member(*attendance, "mode"); mode != nullptr) {
        if (*mode == "session") {
            out.mode = AttendanceMode::session;
        } else if (*mode == "presence") {
            out.mode = AttendanceMode::presence;
        } else {
            return invalid(path + ".mode", "must be \"session\" or \"presence\"",
                           "\"session\": one check-in per session; \"presence\": scans in "
                           "and out, credits by the minutes present.");
        }
    }
    if (Status s = read_int(*attendance, path, "rescan_grace_s", 0, 3600, out.rescan_grace_s); !s)
        return s;
    if (const json* count = member(*attendance, "count_missing_exit"); count != nullptr) {
        if (!count->is_boolean())
            return invalid(path + ".count_missing_exit", "must be true or false");
        out.count_missing_exit = count->get<bool>();
    }
    return {};
}

Status resolve_zone(const json& j, const ZoneLookup& lookup, ModuleEdition& out)
{
    if (Status s = read_text(j, "module", "timezone", out.timezone); !s) return s;
    try {
        if (lookup) out.zone = lookup(out.timezone);
    } catch (const std::exception&) {
        out.zone = nullptr;  // date::locate_zone throws for unknown names
    }
    if (out.zone == nullptr) {
        return invalid("module.timezone", "unknown time zone \"" + out.timezone + "\"",
                       "Use an IANA time-zone name, e.g. \"Europe/Paris\".");
    }
    return {};
}

Status parse_fields(const json& j, const ZoneLookup& lookup, ModuleEdition& out)
{
    if (!j.is_object()) return invalid("module", "must be an object");
    if (Status s = reject_unknown_keys(
            j, "module",
            {"cycle", "number", "title", "venue", "timezone", "checkin_opens_before_min",
             "late_after_min", "completion", "attendance", "days"});
        !s)
        return s;
    if (Status s = read_text(j, "module", "cycle", out.cycle); !s) return s;
    if (!is_cycle(out.cycle)) {
        return invalid("module.cycle", "\"" + out.cycle + "\" is not a cycle",
                       "Write the year, a dash and 1 (spring) or 2 (autumn), e.g. \"2026-2\".");
    }
    if (member(j, "number") == nullptr) return invalid("module.number", "is required");
    if (Status s = read_int(j, "module", "number", 1, 4, out.number); !s) return s;
    out.title = std::string(ecnr_module_title(out.number));
    if (Status s = read_text(j, "module", "venue", out.venue); !s) return s;
    if (Status s = resolve_zone(j, lookup, out); !s) return s;
    if (Status s = read_int(j, "module", "checkin_opens_before_min", 0, kMaxWindowMin,
                            out.checkin_opens_before_min);
        !s)
        return s;
    if (Status s = read_int(j, "module", "late_after_min", 0, kMaxWindowMin, out.late_after_min);
        !s)
        return s;

    const json* days = member(j, "days");
    if (days == nullptr) return invalid("module.days", "is required");
    if (!days->is_array()) return invalid("module.days", "must be an array");
    if (days->empty() || days->size() > kMaxDays) {
        return invalid("module.days", "must hold 1 to 7 days");
    }
    std::set<std::string> seen_ids;
    for (std::size_t i = 0; i < days->size(); ++i) {
        const std::string day_path = "module.days[" + std::to_string(i) + "]";
        DaySpec day;
        if (Status s = parse_day((*days)[i], day_path, seen_ids, day); !s) return s;
        if (!out.days.empty()) {
            const auto& prev = out.days.back();
            if (std::tie(day.year, day.month, day.day) <=
                std::tie(prev.year, prev.month, prev.day)) {
                return invalid(day_path + ".date",
                               "must be after the previous day (" + prev.date_text() + ")",
                               "List the days in date order, each date once.");
            }
        }
        out.days.push_back(std::move(day));
    }

    if (const json* completion = member(j, "completion"); completion != nullptr) {
        if (!completion->is_object()) return invalid("module.completion", "must be an object");
        if (Status s = reject_unknown_keys(*completion, "module.completion",
                                           {"min_sessions", "min_presence_pct"});
            !s)
            return s;
        if (member(*completion, "min_sessions") == nullptr &&
            member(*completion, "min_presence_pct") == nullptr) {
            return invalid("module.completion.min_sessions", "is required",
                           "Give the number of sessions needed, or leave out \"completion\" "
                           "to require every session.");
        }
        if (Status s = read_int(*completion, "module.completion", "min_sessions", 1,
                                out.session_count(), out.completion.min_sessions);
            !s)
            return s;
        if (Status s = read_int(*completion, "module.completion", "min_presence_pct", 1, 100,
                                out.completion.min_presence_pct);
            !s)
            return s;
    }
    return parse_attendance(j, out.attendance);
}

}  // namespace

std::string DaySpec::date_text() const
{
    char buf[48];
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", year, month, day);
    return buf;
}

std::string ModuleEdition::id() const { return "ecnr-" + cycle + "-m" + std::to_string(number); }

int ModuleEdition::session_count() const
{
    int n = 0;
    for (const auto& day : days) n += static_cast<int>(day.sessions.size());
    return n;
}

std::string_view ecnr_module_title(int number)
{
    switch (number) {
        case 1:
            return "Embryology / Anatomy / Malformations / Genetics";
        case 2:
            return "Tumours and Tumour-like lesions";
        case 3:
            return "Vascular Diseases";
        case 4:
            return "Trauma / Degenerative / Metabolic / Inflammatory";
        default:
            return {};
    }
}

Result<ModuleEdition> parse_module(const nlohmann::json& module_json, const ZoneLookup& lookup)
{
    ModuleEdition module;
    try {
        if (Status s = parse_fields(module_json, lookup, module); !s) return s;
    } catch (const std::exception& e) {
        // Every access is type-checked first; this only guards against a missed case.
        return invalid("module", std::string("could not be read: ") + e.what());
    }
    return module;
}

nlohmann::json module_to_json(const ModuleEdition& module)
{
    const Schedule schedule(module);
    const auto instant = [&](Instant t) { return format_rfc3339(t, module.zone); };
    json days = json::array();
    for (const auto& day : module.days) {
        json sessions = json::array();
        for (const auto& spec : day.sessions) {
            json session = {{"id", spec.id},
                            {"label", spec.label},
                            {"start", format_hhmm(spec.start_min)},
                            {"end", format_hhmm(spec.end_min)},
                            {"cme_hours", spec.cme_hours}};
            for (const auto& resolved : schedule.sessions()) {
                if (resolved.spec != &spec) continue;
                session["starts_at"] = instant(resolved.start);
                session["ends_at"] = instant(resolved.end);
                session["window_opens_at"] = instant(resolved.window_opens);
            }
            sessions.push_back(std::move(session));
        }
        days.push_back({{"date", day.date_text()}, {"sessions", std::move(sessions)}});
    }
    json min_sessions = nullptr;
    if (module.completion.min_sessions > 0) min_sessions = module.completion.min_sessions;
    return {{"id", module.id()},
            {"cycle", module.cycle},
            {"number", module.number},
            {"title", module.title},
            {"venue", module.venue},
            {"timezone", module.timezone},
            {"checkin_opens_before_min", module.checkin_opens_before_min},
            {"late_after_min", module.late_after_min},
            {"completion",
             {{"min_sessions", min_sessions},
              {"min_presence_pct", module.completion.min_presence_pct}}},
            {"attendance",
             {{"mode", module.presence() ? "presence" : "session"},
              {"rescan_grace_s", module.attendance.rescan_grace_s},
              {"count_missing_exit", module.attendance.count_missing_exit}}},
            {"days", std::move(days)}};
}

}  // namespace ck

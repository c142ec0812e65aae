#include "core/time.hpp"

#include <date/date.h>
#include <date/tz.h>

#include <cstdio>

namespace ck {
namespace {

// Offset of `zone` at `t`, rounded to whole minutes (RFC 3339 cannot say seconds).
std::chrono::minutes offset_at(Instant t, const date::time_zone* zone)
{
    if (zone == nullptr) return std::chrono::minutes{0};
    return date::round<std::chrono::minutes>(zone->get_info(t).offset);
}

std::string format_with_offset(Instant t, std::chrono::minutes offset, bool zulu)
{
    const auto local = t + offset;
    const auto day = date::floor<date::days>(local);
    const date::year_month_day ymd{day};
    const date::hh_mm_ss<std::chrono::seconds> hms{local - day};
    char buf[64];
    const int n = std::snprintf(
        buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d", static_cast<int>(ymd.year()),
        static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
        static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
        static_cast<int>(hms.seconds().count()));
    std::string out(buf, static_cast<std::size_t>(n));
    if (zulu) return out + "Z";
    const auto abs_min = offset.count() < 0 ? -offset.count() : offset.count();
    std::snprintf(buf, sizeof buf, "%c%02d:%02d", offset.count() < 0 ? '-' : '+',
                  static_cast<int>(abs_min / 60), static_cast<int>(abs_min % 60));
    return out + buf;
}

// Reads exactly `width` ASCII digits at `pos`; -1 when any is missing or not a digit.
int read_digits(std::string_view s, std::size_t pos, std::size_t width)
{
    if (pos + width > s.size()) return -1;
    int value = 0;
    for (std::size_t i = pos; i < pos + width; ++i) {
        if (s[i] < '0' || s[i] > '9') return -1;
        value = value * 10 + (s[i] - '0');
    }
    return value;
}

bool char_at(std::string_view s, std::size_t pos, char c) { return pos < s.size() && s[pos] == c; }

}  // namespace

std::string format_rfc3339(Instant t, const date::time_zone* zone)
{
    if (zone == nullptr) return format_rfc3339_utc(t);
    return format_with_offset(t, offset_at(t, zone), false);
}

std::string format_rfc3339_utc(Instant t)
{
    return format_with_offset(t, std::chrono::minutes{0}, true);
}

std::optional<Instant> parse_rfc3339(std::string_view s)
{
    // Fixed layout up to the seconds: "YYYY-MM-DDThh:mm:ss" is 19 characters.
    const int year = read_digits(s, 0, 4);
    const int month = read_digits(s, 5, 2);
    const int day = read_digits(s, 8, 2);
    const int hour = read_digits(s, 11, 2);
    const int minute = read_digits(s, 14, 2);
    const int second = read_digits(s, 17, 2);
    if (year < 0 || month < 0 || day < 0 || hour < 0 || minute < 0 || second < 0) return {};
    if (!char_at(s, 4, '-') || !char_at(s, 7, '-') || !char_at(s, 13, ':') || !char_at(s, 16, ':'))
        return {};
    if (!char_at(s, 10, 'T') && !char_at(s, 10, 't')) return {};
    if (hour > 23 || minute > 59 || second > 59) return {};
    const date::year_month_day ymd{date::year{year}, date::month{static_cast<unsigned>(month)},
                                   date::day{static_cast<unsigned>(day)}};
    if (!ymd.ok()) return {};

    std::size_t pos = 19;
    if (char_at(s, pos, '.')) {
        const std::size_t first = ++pos;
        while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') ++pos;
        if (pos == first) return {};
    }

    std::chrono::minutes offset{0};
    if (char_at(s, pos, 'Z') || char_at(s, pos, 'z')) {
        ++pos;
    } else if (char_at(s, pos, '+') || char_at(s, pos, '-')) {
        const bool negative = s[pos] == '-';
        const int oh = read_digits(s, pos + 1, 2);
        const int om = read_digits(s, pos + 4, 2);
        if (oh < 0 || om < 0 || !char_at(s, pos + 3, ':') || oh > 23 || om > 59) return {};
        offset = std::chrono::minutes{oh * 60 + om};
        if (negative) offset = -offset;
        pos += 6;
    } else {
        return {};
    }
    if (pos != s.size()) return {};

    const Instant local_as_utc = date::sys_days{ymd} + std::chrono::hours{hour} +
                                 std::chrono::minutes{minute} + std::chrono::seconds{second};
    return local_as_utc - offset;
}

std::string format_local_hhmm(Instant t, const date::time_zone* zone)
{
    const auto local = t + offset_at(t, zone);
    const auto since_midnight = local - date::floor<date::days>(local);
    const date::hh_mm_ss<std::chrono::seconds> hms{since_midnight};
    char buf[24];
    std::snprintf(buf, sizeof buf, "%02d:%02d", static_cast<int>(hms.hours().count()),
                  static_cast<int>(hms.minutes().count()));
    return buf;
}

Instant resolve_local_time(int year, unsigned month, unsigned day, int minutes,
                           const date::time_zone* zone)
{
    const date::local_days local_day{date::year{year} / date::month{month} / date::day{day}};
    const date::local_seconds local = local_day + std::chrono::minutes{minutes};
    const auto as_utc = Instant{local.time_since_epoch()};
    if (zone == nullptr) return as_utc;
    const date::local_info info = zone->get_info(local);
    // In a spring-forward gap the wall clock jumps over `local` at the end of `first`;
    // otherwise `first` is the (earliest) offset in force at `local`.
    if (info.result == date::local_info::nonexistent) return info.first.end;
    return as_utc - info.first.offset;
}

}  // namespace ck

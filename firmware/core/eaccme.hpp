// EACCME's credit rules, shared by session mode (core/attendance.hpp) and presence mode
// (core/presence.hpp): one credit per accredited hour, at most 3 per half-day (a session)
// and 6 per day, in steps of 0.5.
#pragma once

#include <algorithm>
#include <cmath>

namespace ck {

inline constexpr double kEaccmeMaxPerSession = 3;
inline constexpr double kEaccmeMaxPerDay = 6;

// Down to a multiple of 0.5; the epsilon keeps e.g. 2.4999999999 from a computed value at
// 2.5 rather than dropping it to 2.
inline double round_down_half(double credits) { return std::floor(credits * 2 + 1e-9) / 2; }

// The most a session of `cme_hours` gives: its hours, at most 3, down to a multiple of 0.5.
inline double session_credit_cap(double cme_hours)
{
    return round_down_half(std::min(cme_hours, kEaccmeMaxPerSession));
}

}  // namespace ck

#include "core/backoff.hpp"

#include <doctest/doctest.h>

using namespace std::chrono_literals;

TEST_CASE("backoff ceiling doubles from the base and stops at the cap")
{
    const ck::BackoffPolicy policy{1000ms, 30000ms};
    struct Case {
        int attempt;
        std::chrono::milliseconds ceiling;
    };
    const Case cases[] = {{-3, 1000ms}, {0, 1000ms},  {1, 2000ms},  {2, 4000ms},   {3, 8000ms},
                          {4, 16000ms}, {5, 30000ms}, {6, 30000ms}, {62, 30000ms}, {1000, 30000ms}};
    for (const auto& c : cases) {
        CAPTURE(c.attempt);
        CHECK(ck::backoff_ceiling(policy, c.attempt) == c.ceiling);
    }
}

TEST_CASE("full jitter stays within [0, ceiling] and spans it")
{
    const ck::BackoffPolicy policy{1000ms, 30000ms};
    CHECK(ck::full_jitter_delay(policy, 3, 0.0) == 0ms);
    CHECK(ck::full_jitter_delay(policy, 3, 0.5) == 4000ms);
    CHECK(ck::full_jitter_delay(policy, 3, 0.999) <= 8000ms);
    CHECK(ck::full_jitter_delay(policy, 3, 0.999) >= 7900ms);
    // Out-of-range randoms are clamped, never beyond the cap: a device back on the
    // network is retried within the cap (30 s), so it delivers within a minute.
    CHECK(ck::full_jitter_delay(policy, 50, 7.0) == 30000ms);
    CHECK(ck::full_jitter_delay(policy, 50, -1.0) == 0ms);
}

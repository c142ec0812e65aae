// Retry delays: exponential backoff with full jitter (a uniformly random delay between
// zero and the exponential ceiling), capped, so that many devices coming back at once do
// not knock on the registry together.
#pragma once

#include <chrono>

namespace ck {

struct BackoffPolicy {
    std::chrono::milliseconds base{1000};
    std::chrono::milliseconds cap{5 * 60 * 1000};
};

// min(cap, base * 2^attempt); attempt 0 is the first retry.
std::chrono::milliseconds backoff_ceiling(const BackoffPolicy& policy, int attempt);
// A delay in [0, ceiling]; `unit_random` in [0, 1) comes from the caller's generator.
std::chrono::milliseconds full_jitter_delay(const BackoffPolicy& policy, int attempt,
                                            double unit_random);

}  // namespace ck

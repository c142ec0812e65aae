#include "core/backoff.hpp"

#include <algorithm>

namespace ck {

std::chrono::milliseconds backoff_ceiling(const BackoffPolicy& policy, int attempt)
{
    auto ceiling = policy.base;
    for (int i = 0; i < std::max(0, attempt) && ceiling < policy.cap; ++i) ceiling *= 2;
    return std::min(ceiling, policy.cap);
}

std::chrono::milliseconds full_jitter_delay(const BackoffPolicy& policy, int attempt,
                                            double unit_random)
{
    double unit = std::clamp(unit_random, 0.0, 1.0);
    auto ceiling = backoff_ceiling(policy, attempt);
    return std::chrono::milliseconds(
        static_cast<std::chrono::milliseconds::rep>(static_cast<double>(ceiling.count()) * unit));
}

}  // namespace ck

#include "net/rate_limit.hpp"

#include <algorithm>

namespace ck {

bool RateLimiter::allow(const std::string& client, double cost, Clock::time_point now)
{
    std::lock_guard lock(mutex_);
    if (buckets_.size() > 10000) {
        // Drop clients whose buckets have refilled: they lose nothing by being forgotten.
        std::erase_if(buckets_, [&](const auto& item) {
            double elapsed = std::chrono::duration<double>(now - item.second.updated).count();
            return item.second.tokens + elapsed * rate_ >= burst_;
        });
    }
    auto [it, inserted] = buckets_.try_emplace(client, Bucket{burst_, now});
    Bucket& b = it->second;
    if (!inserted) {
        double elapsed = std::chrono::duration<double>(now - b.updated).count();
        b.tokens = std::min(burst_, b.tokens + std::max(0.0, elapsed) * rate_);
        b.updated = now;
    }
    if (b.tokens < cost) return false;
    b.tokens -= cost;
    return true;
}

}  // namespace ck

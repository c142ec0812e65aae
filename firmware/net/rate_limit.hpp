// Per-client token buckets: each client may send `burst` requests at once and `rate_per_s`
// after that. Thread-safe; forgets idle clients so memory stays bounded.
#pragma once

#include <chrono>
#include <mutex>
#include <string>
#include <unordered_map>

namespace ck {

class RateLimiter {
public:
    using Clock = std::chrono::steady_clock;
    RateLimiter(double rate_per_s, double burst) : rate_(rate_per_s), burst_(burst) {}

    // Takes `cost` tokens from `client`'s bucket; false when it has not enough.
    bool allow(const std::string& client, double cost = 1, Clock::time_point now = Clock::now());

private:
    struct Bucket {
        double tokens;
        Clock::time_point updated;
    };
    double rate_;
    double burst_;
    std::mutex mutex_;
    std::unordered_map<std::string, Bucket> buckets_;
};

}  // namespace ck

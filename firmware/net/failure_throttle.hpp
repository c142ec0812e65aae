// Growing delays after repeated failures, per key: the way passwords and phone sign-ins are
// slowed down without locking out the people they belong to (NIST SP 800-63B 5.2.2,
// OWASP's authentication cheat sheet). Only failures count, never successes: people
// behind one address (a venue's NAT) who type correctly do not use each other up.
//
// The first `free_failures` of a key cost nothing; each further failure doubles the wait
// before the key's next attempt, from `first_delay` up to `max_delay`. A key forgets its
// failures `forget_after` after the last one, or when it succeeds. Time is in unix seconds,
// given by the caller (the device's system clock, which the tests move). Thread-safe; at
// most `max_keys` keys are kept (the ones that are not waiting go first, then the oldest).
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

namespace ck {

class FailureThrottle {
public:
    struct Policy {
        int free_failures = 3;
        std::int64_t first_delay_s = 2;
        std::int64_t max_delay_s = 15 * 60;
        std::int64_t forget_after_s = 24 * 3600;
        std::size_t max_keys = 10000;
    };
    explicit FailureThrottle(const Policy& policy) : policy_(policy) {}

    // Seconds `key` must still wait before its next attempt (0: it may try now).
    std::int64_t wait(const std::string& key, std::int64_t now) const;
    // The failures `key` has to its name (0 once forgotten).
    int failures(const std::string& key, std::int64_t now) const;

    void failed(const std::string& key, std::int64_t now);
    void succeeded(const std::string& key);

private:
    struct Entry {
        int failures = 0;
        std::int64_t last_failure = 0;
        std::int64_t next_attempt = 0;
    };
    const Entry* live(const std::string& key, std::int64_t now) const;  // mutex_ held
    void make_room(std::int64_t now);                                   // mutex_ held

    const Policy policy_;
    mutable std::mutex mutex_;
    std::unordered_map<std::string, Entry> entries_;
};

}  // namespace ck

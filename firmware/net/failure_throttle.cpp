#include "net/failure_throttle.hpp"

#include <algorithm>
#include <vector>

namespace ck {

const FailureThrottle::Entry* FailureThrottle::live(const std::string& key, std::int64_t now) const
{
    auto it = entries_.find(key);
    if (it == entries_.end() || now - it->second.last_failure >= policy_.forget_after_s) {
        return nullptr;
    }
    return &it->second;
}

std::int64_t FailureThrottle::wait(const std::string& key, std::int64_t now) const
{
    std::lock_guard lock(mutex_);
    const Entry* entry = live(key, now);
    return entry ? std::max<std::int64_t>(0, entry->next_attempt - now) : 0;
}

int FailureThrottle::failures(const std::string& key, std::int64_t now) const
{
    std::lock_guard lock(mutex_);
    const Entry* entry = live(key, now);
    return entry ? entry->failures : 0;
}

void FailureThrottle::failed(const std::string& key, std::int64_t now)
{
    std::lock_guard lock(mutex_);
    if (!live(key, now)) {
        entries_.erase(key);
        make_room(now);
    }
    Entry& entry = entries_[key];
    entry.failures += 1;
    entry.last_failure = now;
    const int over = entry.failures - policy_.free_failures;
    if (over > 0) {
        std::int64_t delay = policy_.first_delay_s;
        for (int i = 1; i < over && delay < policy_.max_delay_s; ++i) delay *= 2;
        entry.next_attempt = now + std::min(delay, policy_.max_delay_s);
    }
}

void FailureThrottle::succeeded(const std::string& key)
{
    std::lock_guard lock(mutex_);
    entries_.erase(key);
}

void FailureThrottle::make_room(std::int64_t now)
{
    if (entries_.size() < policy_.max_keys) return;
    // Forgotten keys and keys that are not waiting lose little by going.
    std::erase_if(entries_, [&](const auto& item) {
        return now - item.second.last_failure >= policy_.forget_after_s ||
               item.second.next_attempt <= now;
    });
    if (entries_.size() < policy_.max_keys) return;
    // Still full (an attack from very many addresses): the oldest half goes.
    std::vector<std::int64_t> ages;
    ages.reserve(entries_.size());
    for (const auto& item : entries_) ages.push_back(item.second.last_failure);
    auto middle = ages.begin() + static_cast<std::ptrdiff_t>(ages.size() / 2);
    std::nth_element(ages.begin(), middle, ages.end());
    const std::int64_t cut = *middle;
    std::erase_if(entries_, [&](const auto& item) { return item.second.last_failure <= cut; });
}

}  // namespace ck

#include "cli/service_notify.hpp"

#include <systemd/sd-daemon.h>

#include "log/log.hpp"

namespace ck {

ServiceNotifier::ServiceNotifier(std::function<bool()> healthy) : healthy_(std::move(healthy)) {}

ServiceNotifier::~ServiceNotifier()
{
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
}

void ServiceNotifier::ready(const std::string& status)
{
    sd_notify(0, ("READY=1\nSTATUS=" + status).c_str());
    std::uint64_t usec = 0;
    if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0) {
        thread_ = std::thread([this, usec] { watchdog_loop(std::chrono::microseconds(usec / 2)); });
    }
}

void ServiceNotifier::stopping() { sd_notify(0, "STOPPING=1"); }

void ServiceNotifier::watchdog_loop(std::chrono::microseconds period)
{
    std::unique_lock lock(mutex_);
    while (!stopping_) {
        lock.unlock();
        if (healthy_()) {
            sd_notify(0, "WATCHDOG=1");
        } else {
            CK_WARN("service", "the server did not answer its own /healthz; watchdog not pinged");
        }
        lock.lock();
        wake_.wait_for(lock, period, [this] { return stopping_; });
    }
}

}  // namespace ck

#include "app/module_closer.hpp"

#include "app/checkin_service.hpp"
#include "app/device.hpp"
#include "log/log.hpp"

namespace ck {

ModuleCloser::ModuleCloser(Device& device, CheckinService& checkins, std::chrono::seconds period)
    : device_(device), checkins_(checkins), period_(period), thread_([this] { run(); })
{
}

ModuleCloser::~ModuleCloser()
{
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    thread_.join();
}

bool ModuleCloser::check_once()
{
    // An untrusted clock might be years ahead: never close on its word.
    if (!device_.clock.trusted() || device_.store->module_closed()) return false;
    // Check-ins held while the clock was untrusted count: file them before closing.
    checkins_.file_held();
    if (device_.clock.now() < device_.schedule->module_end()) return false;
    auto written = device_.store->close_module(device_.config.module, device_.actor("automatic"));
    if (!written) {
        CK_ERROR("module", "automatic close failed: " << written.status().message());
        return false;
    }
    CK_INFO("module",
            "closed automatically after the last session: " << *written << " completion records");
    return *written > 0 || device_.store->module_closed();
}

void ModuleCloser::run()
{
    std::unique_lock lock(mutex_);
    while (!stopping_) {
        lock.unlock();
        check_once();
        lock.lock();
        wake_.wait_for(lock, period_, [this] { return stopping_; });
    }
}

}  // namespace ck

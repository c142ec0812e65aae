// Closes the module automatically once its last session has ended (SPEC section 2): the
// completion records are written even if nobody presses "close module". A background
// thread that checks every `period`; stopping it (destructor) never waits a full period.
// Each check first files the check-ins held while the clock was untrusted
// (CheckinService::file_held), so that a clock trusted through NTP files them within one
// period.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace ck {

class CheckinService;
class Device;

class ModuleCloser {
public:
    ModuleCloser(Device& device, CheckinService& checkins,
                 std::chrono::seconds period = std::chrono::seconds(30));
    ~ModuleCloser();
    ModuleCloser(const ModuleCloser&) = delete;
    ModuleCloser& operator=(const ModuleCloser&) = delete;

    // One check: files held check-ins, then closes the module if it has ended and is still
    // open. True if it closed it.
    bool check_once();

private:
    void run();

    Device& device_;
    CheckinService& checkins_;
    std::chrono::seconds period_;
    std::mutex mutex_;
    std::condition_variable wake_;
    bool stopping_ = false;
    std::thread thread_;
};

}  // namespace ck

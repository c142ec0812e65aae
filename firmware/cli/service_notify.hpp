// Tells systemd how the service is doing (sd_notify): ready once the port is bound and the
// listener started, "stopping" on the way out, and a watchdog ping every half watchdog
// period while the server still answers its own GET /healthz. Outside systemd (no
// NOTIFY_SOCKET) every call does nothing.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace ck {

class ServiceNotifier {
public:
    // `healthy` is asked before each watchdog ping; a false answer withholds the ping, so
    // systemd restarts a server that stopped answering.
    explicit ServiceNotifier(std::function<bool()> healthy);
    ~ServiceNotifier();  // stops the watchdog thread
    ServiceNotifier(const ServiceNotifier&) = delete;
    ServiceNotifier& operator=(const ServiceNotifier&) = delete;

    void ready(const std::string& status);
    void stopping();

private:
    void watchdog_loop(std::chrono::microseconds period);

    std::function<bool()> healthy_;
    std::mutex mutex_;
    std::condition_variable wake_;
    bool stopping_ = false;
    std::thread thread_;
};

}  // namespace ck

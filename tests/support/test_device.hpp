// A real device for in-process tests: a throw-away data directory with its config, LMDB
// store and keys (init_device, open_device), a clock on a TestTime that the test moves,
// the check-in service, a sync relay over the transport the test gives, and the HTTP
// context. call() runs a route's handler the way the server does once the body is read,
// without a socket; serve() starts the real server on 127.0.0.1 for what needs one.
//
// The module is the integration tests' (tests/integration/kiosk.py): Lille, Europe/Paris,
// d1-am 08:30-12:30 and d1-pm 14:00-18:00 on Monday 23 November 2026, d2-am on Tuesday;
// windows open 60 min before the start, late after 15 min.
#pragma once

#include <httplib.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "app/checkin_service.hpp"
#include "app/clock.hpp"
#include "app/device.hpp"
#include "http/routes.hpp"
#include "http/server.hpp"
#include "sync/outbox_relay.hpp"

namespace ck::test {

inline constexpr const char* kModuleId = "ecnr-2026-2-m3";
inline constexpr const char* kInMorning = "2026-11-23T08:40:00+01:00";  // d1-am open, not late
inline constexpr const char* kLateMorning = "2026-11-23T10:00:00+01:00";
inline constexpr const char* kBetween = "2026-11-23T12:45:00+01:00";  // nothing open

Instant at(const char* rfc3339);

// The clocks a device reads, moved by the test; safe to read from any thread.
class TestTime : public TimeSource {
public:
    Instant wall_now() const override;
    std::chrono::milliseconds since_boot() const override;
    std::string boot_id() const override;
    bool ntp_synchronised() const override { return ntp.load(); }

    void set_wall(Instant t);                // the wall clock jumps; the boot clock does not
    void pass(std::chrono::milliseconds d);  // time passes on both
    void reboot(std::string boot_id);        // a new boot: the boot clock starts again

    std::atomic<bool> ntp{true};

private:
    mutable std::mutex mutex_;
    Instant wall_{};
    std::chrono::milliseconds uptime_{60000};
    std::string boot_ = "boot-1";
};

struct TestDeviceOptions {
    const char* now = kInMorning;
    bool ntp = true;  // the clock is trusted (NTP) from the start
    // Merged into the config ({"device_id","module"} and, with a transport, "registry").
    nlohmann::json config = nlohmann::json::object();
    // Rostered: A001 Kowalska Anna (PL), A002 Müller Lukas (DE), A003 Dubois Chloé (FR).
    bool roster = true;
    // The relay's transport; null: no registry configured.
    std::unique_ptr<RegistryTransport> transport;
};

class TestDevice {
public:
    explicit TestDevice(TestDeviceOptions options = {});
    ~TestDevice();
    TestDevice(const TestDevice&) = delete;
    TestDevice& operator=(const TestDevice&) = delete;

    Device& device() { return *device_; }
    Store& store() { return *device_->store; }
    CheckinService& checkins() { return *checkins_; }
    OutboxRelay& relay() { return *relay_; }
    HttpContext& http() { return *http_; }
    TestTime& time() { return *time_; }
    const std::string& dir() const { return dir_; }

    std::string credential(const std::string& attendee_id) const;
    // A staff account with a cheap password hash (for the real login route); an admin
    // unless `role` says otherwise.
    void add_staff(const std::string& name, const std::string& password,
                   StaffRole role = StaffRole::admin);

    struct Answer {
        int status = 0;
        std::string body;
        httplib::Headers headers;
        bool streamed = false;  // written by a content provider (chunked), in `pieces`
        std::size_t pieces = 0;
        nlohmann::json json() const;  // the body parsed; discarded when it is not JSON
        std::string code() const;     // the error envelope's code, or ""
    };
    // The handler of the route that `method path` matches, as the server calls it after
    // reading the body: the path's groups in Request::matches, `staff` logged in on staff
    // routes (the cookie check is the server's, tested through serve()). Fails the test
    // when no route matches.
    Answer call(const std::string& method, const std::string& path, const std::string& body = "",
                const std::string& staff = "", const httplib::Headers& headers = {},
                const std::string& remote_addr = "192.0.2.10");

    // The real server (http/server.hpp) on 127.0.0.1 and a free port, in this process;
    // stopped by the destructor. Returns the port.
    int serve(const ServerOptions& options = {});

private:
    std::string dir_;
    TestTime* time_ = nullptr;  // owned by the device's clock
    std::unique_ptr<Device> device_;
    std::unique_ptr<CheckinService> checkins_;
    std::unique_ptr<OutboxRelay> relay_;
    std::unique_ptr<HttpContext> http_;
    std::unique_ptr<httplib::Server> server_;
    std::thread listener_;
};

}  // namespace ck::test

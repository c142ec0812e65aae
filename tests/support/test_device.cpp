#include "test_device.hpp"

#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>

#include "core/password.hpp"
#include "http/server.hpp"

namespace ck::test {
namespace {

const char* kModule = R"({
  "cycle": "2026-2", "number": 3, "venue": "Lille", "timezone": "Europe/Paris",
  "checkin_opens_before_min": 60, "late_after_min": 15,
  "days": [
    {"date": "2026-11-23", "sessions": [
      {"id": "d1-am", "label": "Monday morning", "start": "08:30", "end": "12:30", "cme_hours": 3.5},
      {"id": "d1-pm", "label": "Monday afternoon", "start": "14:00", "end": "18:00", "cme_hours": 3.5}]},
    {"date": "2026-11-24", "sessions": [
      {"id": "d2-am", "label": "Tuesday morning", "start": "08:30", "end": "12:30", "cme_hours": 3.5}]}
  ]
})";

void write_text(const std::string& path, const std::string& text, mode_t mode)
{
    std::ofstream(path) << text;
    REQUIRE(::chmod(path.c_str(), mode) == 0);
}

}  // namespace

Instant at(const char* rfc3339)
{
    auto t = parse_rfc3339(rfc3339);
    REQUIRE_MESSAGE(t.has_value(), rfc3339);
    return *t;
}

Instant TestTime::wall_now() const
{
    std::lock_guard lock(mutex_);
    return wall_;
}

std::chrono::milliseconds TestTime::since_boot() const
{
    std::lock_guard lock(mutex_);
    return uptime_;
}

std::string TestTime::boot_id() const
{
    std::lock_guard lock(mutex_);
    return boot_;
}

void TestTime::set_wall(Instant t)
{
    std::lock_guard lock(mutex_);
    wall_ = t;
}

void TestTime::pass(std::chrono::milliseconds d)
{
    std::lock_guard lock(mutex_);
    wall_ += std::chrono::duration_cast<std::chrono::seconds>(d);
    uptime_ += d;
}

void TestTime::reboot(std::string boot_id)
{
    std::lock_guard lock(mutex_);
    boot_ = std::move(boot_id);
    uptime_ = std::chrono::milliseconds(30000);
}

TestDevice::TestDevice(TestDeviceOptions options)
{
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern = std::string(tmp != nullptr && *tmp ? tmp : "/tmp") + "/ck-unit-XXXXXX";
    REQUIRE(::mkdtemp(pattern.data()) != nullptr);
    dir_ = pattern;

    nlohmann::json config = {{"device_id", "unit-kiosk"},
                             {"module", nlohmann::json::parse(kModule)}};
    if (options.transport) {
        write_text(dir_ + "/registry.token", "unit-test-token\n", 0600);
        config["registry"] = {{"url", "http://127.0.0.1:9"},
                              {"token_file", dir_ + "/registry.token"},
                              {"interval_s", 30}};
    }
    config.merge_patch(options.config);
    write_text(dir_ + "/config.json", config.dump(), 0644);
    const std::string data = dir_ + "/data";
    Status initialised = init_device(data, dir_ + "/config.json");
    REQUIRE_MESSAGE(initialised.is_ok(), initialised.message());

    auto time = std::make_unique<TestTime>();
    time_ = time.get();
    time_->set_wall(at(options.now));
    time_->ntp = options.ntp;
    auto opened = open_device(data, {}, std::move(time));
    REQUIRE_MESSAGE(opened.is_ok(), opened.status().message());
    device_ = std::move(*opened);
    if (options.roster) {
        std::vector<Attendee> people = {
            {"A001", "Kowalska", "Anna", "", "PL"},
            {"A002", "M\xC3\xBCller", "Lukas", "", "DE"},
            {"A003", "Dubois", "Chlo\xC3\xA9", "", "FR"},
        };
        REQUIRE(device_->store->import_roster(people).is_ok());
    }
    checkins_ = std::make_unique<CheckinService>(*device_);
    relay_ = std::make_unique<OutboxRelay>(*device_, *checkins_, std::move(options.transport));
    http_ = std::make_unique<HttpContext>(*device_, *checkins_, *relay_);
}

TestDevice::~TestDevice()
{
    if (server_) {
        server_->stop();
        if (listener_.joinable()) listener_.join();
    }
    server_.reset();
    http_.reset();
    if (device_) device_->store->on_events_committed(nullptr);
    relay_.reset();
    checkins_.reset();
    device_.reset();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
}

std::string TestDevice::credential(const std::string& attendee_id) const
{
    return device_->credential_for(attendee_id);
}

void TestDevice::add_staff(const std::string& name, const std::string& password, StaffRole role)
{
    StaffAccount account;
    account.username = name;
    account.password_hash = hash_password(password, {10, 1, 1});
    account.role = role;
    REQUIRE(device_->store->put_staff(account).is_ok());
}

nlohmann::json TestDevice::Answer::json() const
{
    return nlohmann::json::parse(body, nullptr, false);
}

std::string TestDevice::Answer::code() const
{
    auto j = json();
    if (!j.is_object() || !j.contains("error") || !j["error"].is_object()) return "";
    return j["error"].value("code", "");
}

TestDevice::Answer TestDevice::call(const std::string& method, const std::string& path,
                                    const std::string& body, const std::string& staff,
                                    const httplib::Headers& headers, const std::string& remote_addr)
{
    httplib::Request req;
    req.method = method;
    const auto query = path.find('?');
    req.path = path.substr(0, query);
    if (query != std::string::npos) {
        httplib::detail::parse_query_text(path.substr(query + 1), req.params);
    }
    req.headers = headers;
    req.remote_addr = remote_addr;
    for (const Route& route : route_table()) {
        if (method != route.method) continue;
        if (!std::regex_match(req.path, req.matches, std::regex(route.pattern))) continue;
        ApiRequest request{req,
                           body,
                           *http_,
                           *device_,
                           route.access != Access::open ? staff : std::string(),
                           http_->clients.of(req)};
        httplib::Response res;
        route.handler(request, res);
        Answer answer{res.status, res.body, res.headers};
        if (res.content_provider_) {
            // A streamed answer: its pieces, as the server would write them in chunks.
            answer.streamed = true;
            bool done = false;
            httplib::DataSink sink;
            sink.write = [&](const char* data, std::size_t length) {
                answer.body.append(data, length);
                ++answer.pieces;
                return true;
            };
            sink.done = [&] { done = true; };
            sink.is_writable = [] { return true; };
            while (!done) {
                REQUIRE(res.content_provider_(answer.body.size(), 0, sink));
            }
        }
        return answer;
    }
    FAIL("no route takes " << method << " " << path);
    return {};
}

int TestDevice::serve(const ServerOptions& options)
{
    REQUIRE_FALSE(server_);
    server_ = make_server(*http_, options);
    const int port = server_->bind_to_any_port("127.0.0.1");
    REQUIRE(port > 0);
    listener_ = std::thread([this] { server_->listen_after_bind(); });
    // Bounded: a listener that does not start fails the test after 5 s.
    for (int i = 0; i < 5000 && !server_->is_running(); ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    REQUIRE(server_->is_running());
    return port;
}

}  // namespace ck::test

#include "fuzz_device.hpp"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <stdexcept>
#include <vector>

#include "core/password.hpp"
#include "core/phone_token.hpp"
#include "fuzz_check.hpp"

namespace ck::fuzz {
namespace {

// Monday 08:40 in Lille: d1-am is open (08:30-12:30, late from 08:45) for hours.
constexpr const char* kFakeTime = "2026-11-23T08:40:00+01:00";

constexpr const char* kConfig = R"({
  "device_id": "fuzz-kiosk",
  "listen": "127.0.0.1:0",
  "module": {
    "cycle": "2026-2", "number": 3, "venue": "Lille", "timezone": "Europe/Paris",
    "checkin_opens_before_min": 60, "late_after_min": 15,
    "days": [
      {"date": "2026-11-23", "sessions": [
        {"id": "d1-am", "label": "Monday morning", "start": "08:30", "end": "12:30", "cme_hours": 3.5},
        {"id": "d1-pm", "label": "Monday afternoon", "start": "14:00", "end": "18:00", "cme_hours": 3.5}]},
      {"date": "2026-11-24", "sessions": [
        {"id": "d2-am", "label": "Tuesday morning", "start": "08:30", "end": "12:30", "cme_hours": 3.5}]}
    ]
  }
})";

[[noreturn]] void setup_failed(const std::string& what)
{
    std::fprintf(stderr, "fuzz device: %s\n", what.c_str());
    std::abort();
}

std::int64_t unix_now(const Device& device)
{
    return device.clock.now().time_since_epoch().count();
}

}  // namespace

FuzzDevice& FuzzDevice::next()
{
    static std::unique_ptr<FuzzDevice> current;
    static int inputs = 0;
    if (!current || ++inputs % kInputsPerDevice == 0) {
        current.reset();
        current.reset(new FuzzDevice());
    }
    // Fresh rate limits (as serve makes them) for every input: what an input does must not
    // depend on how many ran before it.
    current->context_.reset();
    current->context_ =
        std::make_unique<HttpContext>(*current->device_, *current->checkins_, *current->relay_);
    return *current;
}

FuzzDevice::FuzzDevice()
{
    ::setenv("COURSE_KIOSK_FAKE_TIME", kFakeTime, 1);
    ::setenv("COURSE_KIOSK_CLOCK_TRUSTED", "1", 1);
    ::setenv("COURSE_KIOSK_LOG", "error", 0);  // a warning per refused input is noise here

    const char* tmp = std::getenv("TMPDIR");
    std::string pattern = std::string(tmp != nullptr && *tmp ? tmp : "/tmp") + "/ck-fuzz-XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) setup_failed("cannot create " + pattern);
    dir_ = pattern;
    const std::string config_path = dir_ + "/config.json";
    std::ofstream(config_path) << kConfig;
    const std::string data = dir_ + "/data";
    if (Status s = init_device(data, config_path); !s) setup_failed(s.message());
    auto opened = open_device(data);
    if (!opened) setup_failed(opened.status().message());
    device_ = std::move(*opened);
    checkins_ = std::make_unique<CheckinService>(*device_);
    relay_ = std::make_unique<OutboxRelay>(*device_, *checkins_);

    std::vector<Attendee> roster = {
        {"A0001", "Martin", "Alice", "alice.martin@example.org", "FR"},
        {"A0002", "Dubois", "Jean", "", "BE"},
        {"A0003", "M\xC3\xBCller", "J\xC3\xBCrgen", "", ""},
    };
    if (auto stats = device_->store->import_roster(roster); !stats) {
        setup_failed(stats.status().message());
    }
    // A cheap scrypt cost, so that logging in as this account costs nothing; unknown
    // accounts still cost the real default (the server does that on purpose).
    StaffAccount staff;
    staff.username = kStaff;
    staff.password_hash = hash_password("fuzz password", {10, 1, 1});
    if (Status s = device_->store->put_staff(staff); !s) setup_failed(s.message());
}

FuzzDevice::~FuzzDevice()
{
    context_.reset();
    relay_.reset();
    checkins_.reset();
    device_.reset();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
}

bool FuzzDevice::call(const std::string& method, const std::string& path, std::string_view raw,
                      const httplib::Headers& headers, httplib::Response* answer)
{
    static const std::vector<std::regex> patterns = [] {
        std::vector<std::regex> list;
        for (const Route& route : route_table()) list.emplace_back(route.pattern);
        return list;
    }();
    const std::vector<Route>& routes = route_table();
    for (std::size_t i = 0; i < routes.size(); ++i) {
        const Route& route = routes[i];
        if (method != route.method) continue;
        httplib::Request req;
        req.method = method;
        req.path = path;
        if (!std::regex_match(req.path, req.matches, patterns[i])) continue;
        req.headers = headers;
        req.remote_addr = "192.0.2.7";
        const std::string body = expand(raw);
        const std::size_t limit =
            route.max_body != 0 ? route.max_body : device_->config.max_body_bytes;
        if (body.size() > limit) return false;  // the server answers 413 without a handler

        ApiRequest request{req,
                           body,
                           *context_,
                           *device_,
                           route.access != Access::open ? kStaff : "",
                           context_->clients.of(req)};
        httplib::Response res;
        route.handler(request, res);

        static const bool trace = std::getenv("CK_FUZZ_TRACE") != nullptr;
        if (trace || res.status < 200 || res.status == 500) {
            std::fprintf(stderr, "%s %s answered %d: %s\n", method.c_str(), path.c_str(),
                         res.status, res.body.c_str());
        }
        CK_FUZZ_CHECK(res.status >= 200);
        CK_FUZZ_CHECK(res.status != 500);  // internal_error, storage_error: never the client's
        if (res.get_header_value("Content-Type").rfind("application/json", 0) == 0) {
            CK_FUZZ_CHECK(!nlohmann::json::parse(res.body, nullptr, false).is_discarded());
        }
        if (answer != nullptr) *answer = std::move(res);
        return true;
    }
    return false;
}

std::string FuzzDevice::expand(std::string_view body) const
{
    std::string out(body);
    const auto replace_all = [&out](std::string_view placeholder, const auto& make) {
        std::size_t pos = out.find(placeholder);
        if (pos == std::string::npos) return;
        const std::string value = make();
        for (; pos != std::string::npos; pos = out.find(placeholder, pos + value.size())) {
            out.replace(pos, placeholder.size(), value);
        }
    };
    replace_all("$TOKEN", [this] {
        return make_display_token(device_->display_secret, kOpenSession,
                                  token_slot(unix_now(*device_)));
    });
    replace_all("$CREDENTIAL", [this] { return device_->credential_for(kAttendee); });
    return out;
}

std::string FuzzDevice::phone_cookie() const
{
    PhoneIdentity identity{kAttendee, device_->store->current_issue(kAttendee),
                           unix_now(*device_) + 24 * 3600};
    return std::string("ck_phone=") + make_phone_cookie(device_->display_secret, identity);
}

std::string FuzzDevice::live_checkin_id()
{
    if (auto kept = checkin_id_.empty() ? std::nullopt : device_->store->checkin(checkin_id_);
        kept && !kept->voided) {
        return checkin_id_;
    }
    // Someone new each time: voided check-ins of one attendee would pile up, and every
    // lookup of that attendee's check-ins would read them all.
    const std::string attendee = "V" + std::to_string(++checkins_made_);
    NewCheckin checkin;
    checkin.module_id = kModuleId;
    checkin.attendee_id = attendee;
    checkin.session_id = kOpenSession;
    checkin.at = device_->clock.now();
    checkin.at_text = format_rfc3339(checkin.at, device_->config.module.zone);
    checkin.source = "badge";
    auto outcome = device_->store->record_checkin(checkin);
    if (!outcome) setup_failed(outcome.status().message());
    checkin_id_ = outcome->record.id;
    return checkin_id_;
}

std::string FuzzDevice::held_checkin_id()
{
    for (const HeldCheckin& held : device_->store->held_checkins()) return held.id;
    ClockReading clock = device_->clock.read();
    HeldCheckin held;
    held.id = new_uuid();
    held.attendee_id = "A0003";
    held.source = "badge";
    held.issue = 1;
    held.boot_id = clock.stamp.boot_id;
    held.since_boot_ms = clock.stamp.since_boot.count();
    held.device_time = format_rfc3339(clock.now, device_->config.module.zone);
    if (auto kept = device_->store->hold_checkin(held); !kept) {
        setup_failed(kept.status().message());
    }
    return held.id;
}

}  // namespace ck::fuzz

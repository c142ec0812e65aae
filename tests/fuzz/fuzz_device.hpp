// A real device for the fuzz targets that drive the HTTP handlers: config, LMDB store, keys,
// clock and route table over a throw-away data directory in $TMPDIR, with no sockets.
//
// The device is opened on first use and replaced by a fresh one every kInputsPerDevice
// inputs, so the store stays small and a long run stays fast. Its clock is pinned (through
// the COURSE_KIOSK_FAKE_TIME hook) inside the first morning session, trusted, so check-ins
// reach the store.
#pragma once

#include <httplib.h>

#include <string>
#include <string_view>

#include "app/checkin_service.hpp"
#include "app/device.hpp"
#include "http/routes.hpp"
#include "sync/outbox_relay.hpp"

namespace ck::fuzz {

inline constexpr int kInputsPerDevice = 2000;
inline constexpr const char* kModuleId = "ecnr-2026-2-m3";
inline constexpr const char* kOpenSession = "d1-am";
// In the roster: "A0001" Martin Alice, "A0002" Dubois Jean, "A0003" Müller Jürgen.
inline constexpr const char* kAttendee = "A0001";
inline constexpr const char* kStaff = "fuzz-staff";

class FuzzDevice {
public:
    // The device for this input (counts the input; may replace the device first).
    static FuzzDevice& next();

    Device& device() { return *device_; }

    // Calls the route `method path` the way the server does once it has read the body:
    // the body limit of the route, a logged-in staff member on staff routes, the path's
    // regex groups in Request::matches. Placeholders in `body` are replaced first (see
    // expand()). Returns false, without calling anything, when no route matches or the
    // body is over the route's limit. Checks the answer: a status, no 500, and JSON that
    // parses when it says it is JSON. With CK_FUZZ_TRACE set in the environment, prints
    // every answer (to see how far a corpus entry gets).
    bool call(const std::string& method, const std::string& path, std::string_view body,
              const httplib::Headers& headers = {}, httplib::Response* answer = nullptr);

    // "$TOKEN" becomes a display token of the open session, valid now, and "$CREDENTIAL"
    // kAttendee's current badge: a seed reaches past the MAC and signature checks that
    // random bytes never pass.
    std::string expand(std::string_view body) const;

    std::string phone_cookie() const;  // "ck_phone=..." identifying kAttendee
    // A valid (not voided) check-in and a held check-in, made again when an input used
    // them up, so that every input can reach the void and the filing.
    std::string live_checkin_id();
    std::string held_checkin_id();

    ~FuzzDevice();
    FuzzDevice(const FuzzDevice&) = delete;
    FuzzDevice& operator=(const FuzzDevice&) = delete;

private:
    FuzzDevice();

    std::string dir_;
    std::unique_ptr<Device> device_;
    std::unique_ptr<CheckinService> checkins_;
    std::unique_ptr<OutboxRelay> relay_;    // no registry configured: never sends
    std::unique_ptr<HttpContext> context_;  // made again for every input (fresh limits)
    std::string checkin_id_;
    int checkins_made_ = 0;
};

}  // namespace ck::fuzz

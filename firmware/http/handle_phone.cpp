// The entrance display and phone self check-in (SPEC section 5).
//
// The display shows a QR code of "<phone address>/p?t=<token>"; the token rotates every 30 s
// and names the open session. The phone address is public_url, else one the device finds
// (app/phone_address.hpp); without one the display warns staff instead of showing a code
// no phone could open. A phone proves who it belongs to once (badge code, or
// registration number plus family name), then a signed HttpOnly cookie remembers it for
// the rest of the module, so later sessions take one scan.
#include <algorithm>
#include <cctype>

#include "app/checkin_service.hpp"
#include "app/device.hpp"
#include "app/phone_address.hpp"
#include "core/phone_token.hpp"
#include "core/qr.hpp"
#include "http/api_json.hpp"
#include "http/routes.hpp"
#include "http/staff_auth.hpp"
#include "net/error.hpp"

namespace ck {
namespace {

constexpr const char* kPhoneCookie = "ck_phone";
constexpr std::int64_t kSessionGraceSeconds = 120;  // a token still works just after the end
// Typing a badge code or registration number takes longer than a token lives: the first
// identification may use a token up to 10 minutes old (still only for its open session).
constexpr std::int64_t kIdentifyGraceSlots = 20;

std::int64_t unix_of(Instant t) { return t.time_since_epoch().count(); }

// The session a fresh, genuine token names, if check-in to it is still allowed.
Result<const ResolvedSession*> session_of_token(Device& device, const nlohmann::json& body,
                                                std::int64_t grace_slots = kTokenGraceSlots)
{
    auto it = body.find("token");
    if (it == body.end() || !it->is_string()) {
        return Status::error(err::invalid_token, "This link is not valid.",
                             "Scan the code on the screen at the entrance.");
    }
    auto token = verify_display_token(device.display_secret, it->get<std::string>());
    if (!token) {
        return Status::error(err::invalid_token, "This link is not valid.",
                             "Scan the code on the screen at the entrance.");
    }
    Instant now = device.clock.now();
    const ResolvedSession* session = device.schedule->find(token->session_id);
    bool session_usable = session != nullptr && now >= session->window_opens &&
                          now < session->end + std::chrono::seconds(kSessionGraceSeconds);
    if (!token_fresh(*token, unix_of(now), grace_slots) || !session_usable) {
        return Status::error(err::token_expired, "This code has expired.",
                             "Scan the code on the screen at the entrance again.");
    }
    return session;
}

void record_phone_checkin(const ApiRequest& request, const ResolvedSession& session,
                          const std::string& attendee_id, httplib::Response& res)
{
    answer_checkin(*request.device.schedule, request.context.checkins.phone(attendee_id, session),
                   res);
}

Result<nlohmann::json> json_object(const std::string& body)
{
    auto json = nlohmann::json::parse(body, nullptr, false);
    if (json.is_discarded() || !json.is_object()) {
        return Status::error(err::malformed_request, "The request body must be a JSON object.",
                             "Reload the page.");
    }
    return json;
}

}  // namespace

void handle_display_state(const ApiRequest& request, httplib::Response& res)
{
    Device& device = request.device;
    // The token lets someone check in without being at the entrance, so only the device's
    // own screen or a logged-in staff browser may see it.
    if (!is_loopback_host(request.client) && !find_staff_session(device, request.http)) {
        write_error(res, Status::error(err::unauthenticated,
                                       "The display needs a staff login or must run on the kiosk.",
                                       "Log in on /staff in this browser first."));
        return;
    }
    const Schedule& schedule = *device.schedule;
    Instant now = device.clock.now();
    const ResolvedSession* open = schedule.open_session(now);
    const ResolvedSession* next = schedule.next_session(now);
    std::int64_t unix_now = unix_of(now);
    std::int64_t slot = token_slot(unix_now);
    nlohmann::json body = {
        {"module",
         {{"title", device.config.module.title},
          {"venue", device.config.module.venue},
          {"timezone", device.config.module.timezone}}},
        {"open_session", open ? session_summary(schedule, *open) : nlohmann::json(nullptr)},
        {"next_session", nullptr},
        {"token_url", nullptr},
        {"qr_svg", nullptr},
        {"rotates_in_s", (slot + 1) * kTokenSlotSeconds - unix_now},
        {"now", format_rfc3339(now, device.config.module.zone)}};
    // Asked at every answer: a Pi often gets its address after the server has started.
    const ListenAddress& listening = request.context.listening;
    const PhoneAddress phone = choose_phone_address(device.config.public_url, listening.host,
                                                    listening.port, interface_addresses());
    auto or_null = [](const std::string& s) {
        return s.empty() ? nlohmann::json() : nlohmann::json(s);
    };
    body["phone_access"] = {{"base_url", or_null(phone.base_url)},
                            {"source", phone.source},
                            {"warning", or_null(phone.problem)}};
    if (next != nullptr) {
        body["next_session"] = session_summary(schedule, *next);
        body["next_session"]["window_opens_at"] =
            format_rfc3339(next->window_opens, device.config.module.zone);
    }
    if (open != nullptr) {
        // Without an address phones can reach, the URL is the path alone and there is no
        // QR code: a code of a 127.0.0.1 address would look fine and open nowhere.
        std::string url = phone.base_url +
                          "/p?t=" + make_display_token(device.display_secret, open->spec->id, slot);
        body["token_url"] = url;
        if (!phone.base_url.empty()) body["qr_svg"] = qr_svg(url, {}, false);
    }
    nlohmann::json recent = nlohmann::json::array();
    // Held check-ins (the clock is not trusted) are the newest: they come first, with the
    // untrusted clock's time, so the entrance sees its scans land either way.
    if (device.store->held_count() > 0) {
        auto held = device.store->held_checkins();
        for (auto h = held.rbegin(); h != held.rend() && recent.size() < 8; ++h) {
            if (h->device_time.size() < 16) continue;  // "YYYY-MM-DDTHH:MM..."
            auto attendee = device.store->attendee(h->attendee_id);
            recent.push_back({{"name", attendee ? attendee->first_name_initial() : "Guest"},
                              {"local_time", h->device_time.substr(11, 5)},
                              {"held", true}});
        }
    }
    const std::size_t room = 8 - recent.size();
    for (const auto& c :
         room > 0 ? device.store->recent_checkins(room) : std::vector<CheckinRecord>{}) {
        auto attendee = device.store->attendee(c.attendee_id);
        recent.push_back({{"name", attendee ? attendee->first_name_initial() : "Guest"},
                          {"local_time", format_local_hhmm(c.at, device.config.module.zone)}});
    }
    body["recent"] = std::move(recent);
    write_json(res, 200, body);
}

void handle_phone_checkin(const ApiRequest& request, httplib::Response& res)
{
    Device& device = request.device;
    if (!request.context.checkin_limiter.allow(request.client)) {
        write_error(res, Status::error(err::rate_limited, "Too many attempts from this phone.",
                                       "Wait a minute and scan again."));
        return;
    }
    auto body = json_object(request.body);
    if (!body) {
        write_error(res, body.status());
        return;
    }
    auto session = session_of_token(device, *body);
    if (!session) {
        write_error(res, session.status());
        return;
    }
    auto identity = verify_phone_cookie(device.display_secret,
                                        cookie_value(request.http, kPhoneCookie).value_or(""),
                                        unix_of(device.clock.now()));
    if (!identity || device.store->is_revoked(identity->attendee_id, identity->issue)) {
        write_error(res, Status::error(err::phone_not_identified,
                                       "This phone does not know who you are yet.",
                                       "Enter your badge code, or your registration number and "
                                       "family name, once."));
        return;
    }
    record_phone_checkin(request, **session, identity->attendee_id, res);
}

void handle_phone_identify(const ApiRequest& request, httplib::Response& res)
{
    Device& device = request.device;
    const std::int64_t now = unix_of(device.clock.system_now());
    if (std::int64_t wait = request.context.phone_failures.wait(request.client, now); wait > 0) {
        write_error(res, Status::error(err::rate_limited, "Too many attempts from this phone.",
                                       "Wait a minute, or ask at the registration desk."));
        res.set_header("Retry-After", std::to_string(wait));
        return;
    }
    if (!request.context.checkin_limiter.allow(request.client)) {
        write_error(res, Status::error(err::rate_limited, "Too many attempts from this phone.",
                                       "Wait a minute and try again."));
        return;
    }
    auto body = json_object(request.body);
    if (!body) {
        write_error(res, body.status());
        return;
    }
    auto session = session_of_token(device, *body, kIdentifyGraceSlots);
    if (!session) {
        write_error(res, session.status());
        return;
    }
    PhoneProof proof;
    if (auto c = body->find("credential"); c != body->end() && c->is_string()) {
        proof.credential = c->get<std::string>();
    } else {
        auto id = body->find("attendee_id");
        auto family = body->find("family_name");
        if (id == body->end() || !id->is_string() || family == body->end() ||
            !family->is_string()) {
            write_error(res, Status::error(err::malformed_request,
                                           "Send your badge code, or your registration number "
                                           "and family name.",
                                           "Fill in one of the two forms."));
            return;
        }
        proof.attendee_id = id->get<std::string>();
        proof.family_name = family->get<std::string>();
    }
    auto identified = request.context.checkins.identify(proof);
    if (!identified) {
        request.context.phone_failures.failed(request.client, now);
        write_error(res, identified.status());
        return;
    }
    PhoneIdentity identity = *identified;
    // Remembered until a day after the module's last session.
    Instant module_end = device.schedule->module_end();
    identity.expires = unix_of(module_end) + 24 * 3600;
    std::int64_t max_age =
        std::max<std::int64_t>(60, identity.expires - unix_of(device.clock.now()));
    res.set_header("Set-Cookie",
                   std::string(kPhoneCookie) + "=" +
                       make_phone_cookie(device.display_secret, identity) +
                       "; Path=/; HttpOnly; SameSite=Strict; Max-Age=" + std::to_string(max_age));
    record_phone_checkin(request, **session, identity.attendee_id, res);
}

}  // namespace ck

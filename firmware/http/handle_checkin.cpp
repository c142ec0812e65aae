// POST /api/v1/checkins: a scanned personal credential becomes a durable check-in.
//
// Order of checks: rate limit, body shape, credential (signature, module, revocation),
// clock and open session, then the store, which answers "already checked in" atomically.
// A 2xx is sent only after the store's commit returned.
#include <nlohmann/json.hpp>

#include "app/device.hpp"
#include "app/log.hpp"
#include "core/checkin_policy.hpp"
#include "http/api_json.hpp"
#include "http/checkin_flow.hpp"
#include "http/error.hpp"
#include "http/rate_limit.hpp"
#include "http/routes.hpp"

namespace ck {
namespace {

constexpr std::size_t kMaxCredentialLength = 1024;
// A refused credential costs more than an accepted one: guessing is slowed down first.
constexpr double kRefusalCost = 5;

Status malformed(const std::string& message)
{
    return Status::error("malformed_request", message,
                         "Send a JSON object like {\"credential\": \"...\"}.");
}

Result<std::string> parse_checkin_body(const std::string& body)
{
    auto json = nlohmann::json::parse(body, nullptr, false);
    if (json.is_discarded()) return malformed("The request body is not valid JSON.");
    if (!json.is_object()) return malformed("The request body must be a JSON object.");
    for (const auto& item : json.items()) {
        if (item.key() != "credential") {
            return malformed("Unknown field \"" + item.key() + "\" in the request body.");
        }
    }
    auto credential = json.find("credential");
    if (credential == json.end()) return malformed("The field \"credential\" is missing.");
    if (!credential->is_string()) return malformed("The field \"credential\" must be a string.");
    const auto& text = credential->get_ref<const std::string&>();
    if (text.empty() || text.size() > kMaxCredentialLength) {
        return malformed("The field \"credential\" must be 1 to 1024 characters long.");
    }
    return text;
}

}  // namespace

CheckinContext checkin_context(Device& device, const CredentialVerifier* verifier)
{
    CheckinContext context;
    context.schedule = device.schedule.get();
    context.verifier = verifier;
    context.is_revoked = [&device](const Credential& c) {
        return device.store->is_revoked(c.attendee_id, c.issue);
    };
    context.now = device.clock.now();
    context.clock_trusted = device.clock.trusted();
    context.refuse_when_clock_untrusted = device.config.refuse_checkins_when_untrusted;
    return context;
}

// The clock is not trusted: keep the check-in with its boot stamp, to be filed under its
// session once the clock is (app/held_filer.hpp). 202: durable, but not filed yet.
void hold_and_answer(Device& device, const CheckinContext& context, const CheckinBy& who,
                     httplib::Response& res)
{
    ClockReading clock = device.clock.read();
    HeldCheckin held;
    held.id = new_uuid();
    held.attendee_id = who.attendee_id;
    held.source = who.source;
    held.staff = who.staff;
    held.issue = who.issue;
    held.boot_id = clock.stamp.boot_id;
    held.since_boot_ms = clock.stamp.since_boot.count();
    held.device_time = format_rfc3339(context.now, device.config.module.zone);
    if (Status s = device.store->hold_checkin(held); !s) {
        CK_ERROR("store",
                 "held check-in of " << who.attendee_id << " not recorded: " << s.message());
        write_error(res, s);
        return;
    }
    CK_WARN("clock", "check-in of " << who.attendee_id << " held: the clock is not trusted ("
                                    << held.device_time << ")");
    auto attendee = device.store->attendee(who.attendee_id);
    write_json(res, 202,
               {{"status", "held"},
                {"held", {{"id", held.id}, {"device_time", held.device_time}}},
                {"attendee",
                 {{"display_name", attendee ? attendee->first_name_initial() : who.attendee_id}}},
                {"message",
                 "Recorded. The kiosk's clock is not confirmed yet; this check-in will be filed "
                 "under the right session as soon as it is."}});
}

void record_and_answer(Device& device, const CheckinContext& context,
                       const CheckinAdmission& admission, const CheckinBy& who,
                       httplib::Response& res)
{
    if (admission.hold) {
        hold_and_answer(device, context, who, res);
        return;
    }
    auto attendee = device.store->attendee(who.attendee_id);
    NewCheckin checkin =
        device.new_checkin(who.attendee_id, *admission.session, context.now, who.source);
    checkin.not_in_roster = !attendee.has_value();
    checkin.clock_untrusted = admission.clock_untrusted;
    checkin.staff = who.staff;
    checkin.issue = who.issue;
    auto outcome = device.store->record_checkin(checkin);
    if (!outcome) {
        CK_ERROR("store", "check-in of " << checkin.attendee_id << " for " << checkin.session_id
                                         << " not recorded: " << outcome.status().message());
        write_error(res, outcome.status());
        return;
    }
    write_json(res, outcome->created ? 201 : 200,
               checkin_answer(*device.schedule, *outcome, attendee));
}

void handle_post_checkin(const ApiRequest& request, httplib::Response& res)
{
    Device& device = request.device;
    const std::string& client = request.http.remote_addr;
    if (!device.checkin_limiter->allow(client)) {
        write_error(res, Status::error("rate_limited", "Too many check-in attempts from here.",
                                       "Wait a few seconds and try again."));
        res.set_header("Retry-After", "5");
        return;
    }
    auto text = parse_checkin_body(request.body);
    if (!text) {
        write_error(res, text.status());
        return;
    }
    auto verifier = device.verifier();
    CheckinContext context = checkin_context(device, verifier.get());
    auto admission = admit_checkin(*text, context);
    if (!admission) {
        device.checkin_limiter->allow(client, kRefusalCost);
        write_error(res, admission.status());
        return;
    }
    record_and_answer(device, context, *admission,
                      {admission->credential.attendee_id, "badge", "", admission->credential.issue},
                      res);
}

}  // namespace ck

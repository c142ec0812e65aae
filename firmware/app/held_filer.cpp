#include "app/held_filer.hpp"

#include <mutex>

#include "app/device.hpp"
#include "app/log.hpp"

namespace ck {
namespace {

NewCheckin checkin_of(const Device& device, const HeldCheckin& held, const ResolvedSession& session,
                      Instant at, bool clock_untrusted)
{
    NewCheckin c = device.new_checkin(held.attendee_id, session, at, held.source);
    c.not_in_roster = !device.store->attendee(held.attendee_id).has_value();
    c.clock_untrusted = clock_untrusted;
    c.staff = held.staff;
    c.issue = held.issue;
    return c;
}

}  // namespace

FilingReport file_held_checkins(Device& device)
{
    // One filing pass at a time (the closer's thread, the clock handler, the relay).
    static std::mutex filing;
    std::lock_guard lock(filing);
    FilingReport report;
    if (!device.clock.trusted()) return report;
    for (const HeldCheckin& held : device.store->held_checkins()) {
        auto at =
            device.clock.instant_of({held.boot_id, std::chrono::milliseconds(held.since_boot_ms)});
        std::string problem;
        const ResolvedSession* session = nullptr;
        if (!at) {
            problem =
                "taken before a restart, while the clock was not trusted: its time is "
                "unknown. File it by hand.";
        } else if ((session = device.schedule->open_session(*at)) == nullptr) {
            problem = "no session was open at " + format_rfc3339(*at, device.config.module.zone) +
                      ". File it by hand.";
        }
        if (!problem.empty()) {
            if (held.problem != problem) (void)device.store->mark_held(held.id, problem);
            ++report.left;
            continue;
        }
        auto outcome = device.store->file_held_checkin(
            held.id, checkin_of(device, held, *session, *at, false), device.actor("clock"));
        if (!outcome) {
            CK_ERROR("clock",
                     "held check-in " << held.id << " not filed: " << outcome.status().message());
            ++report.left;
            continue;
        }
        ++(outcome->created ? report.filed : report.duplicates);
        CK_INFO("clock", "held check-in of " << held.attendee_id << " filed under "
                                             << session->spec->id << " at "
                                             << outcome->record.at_text);
    }
    return report;
}

Status file_held_by_hand(Device& device, const std::string& held_id, const std::string& session_id,
                         const std::string& staff)
{
    const ResolvedSession* session = device.schedule->find(session_id);
    if (session == nullptr) {
        return Status::error("malformed_request", "Unknown session_id.",
                             "Use a session id of this module, e.g. \"d1-am\".");
    }
    for (const HeldCheckin& held : device.store->held_checkins()) {
        if (held.id != held_id) continue;
        // The time is the best known: the true one when this boot's clock can tell, else
        // the untrusted reading, flagged.
        auto at =
            device.clock.instant_of({held.boot_id, std::chrono::milliseconds(held.since_boot_ms)});
        bool untrusted = !at.has_value();
        if (!at) at = parse_rfc3339(held.device_time).value_or(device.clock.now());
        auto outcome = device.store->file_held_checkin(
            held.id, checkin_of(device, held, *session, *at, untrusted), device.actor(staff));
        return outcome ? Status::ok() : outcome.status();
    }
    return Status::error("not_found", "This check-in is no longer held.", "Reload the list.");
}

}  // namespace ck

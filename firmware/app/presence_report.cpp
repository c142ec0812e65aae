#include "app/presence_report.hpp"

#include <map>

#include "app/device.hpp"

namespace ck {

SessionPresenceReport session_presence_report(const Device& device, const ResolvedSession& session,
                                              Instant now)
{
    std::map<std::string, std::vector<CheckinRecord>> by_attendee;
    for (CheckinRecord& r : device.store->checkins_of_session(session.spec->id)) {
        by_attendee[r.attendee_id].push_back(std::move(r));
    }
    SessionPresenceReport report;
    const ModuleEdition& module = device.config.module;
    for (auto& [attendee_id, records] : by_attendee) {
        std::vector<PresenceScan> scans = presence_scans(records);
        if (scans.empty()) continue;  // everything voided
        SessionPresenceRow row;
        row.attendee_id = attendee_id;
        row.presence = session_presence(module, session, std::move(scans), now);
        if (!row.presence.inside && !row.presence.intervals.empty()) {
            row.left_at = row.presence.intervals.back().left;
            row.left_early = row.left_at && *row.left_at < session.end;
        }
        ++report.entered;
        report.inside += row.presence.inside && now < session.end ? 1 : 0;
        report.left_early += row.left_early ? 1 : 0;
        report.attended += row.presence.attended ? 1 : 0;
        report.rows.push_back(std::move(row));
    }
    return report;
}

}  // namespace ck

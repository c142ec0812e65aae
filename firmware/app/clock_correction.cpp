#include "app/clock_correction.hpp"

#include <nlohmann/json.hpp>

#include "app/device.hpp"
#include "log/log.hpp"

namespace ck {

ClockCorrection correct_clock(Device& device, CheckinService& checkins, Instant t,
                              const std::string& source, const std::string& actor)
{
    ClockCorrection result;
    result.before = device.clock.now();
    DeviceClock::Correction c = device.clock.set(t, source);
    nlohmann::json kept = {{"at", c.at.time_since_epoch().count()},
                           {"since_boot_ms", c.since_boot.count()},
                           {"boot_id", c.boot_id},
                           {"source", c.source}};
    if (Status s = device.store->set_meta("clock_correction", kept.dump()); !s) {
        CK_WARN("clock", "correction not kept for restarts: " << s.message());
    }
    const date::time_zone* zone = device.config.module.zone;
    if (Status s = device.store->audit(device.actor(actor), "set_clock",
                                       {{"from", format_rfc3339(result.before, zone)},
                                        {"to", format_rfc3339(t, zone)},
                                        {"source", source}});
        !s) {
        CK_WARN("clock", "clock correction not audited: " << s.message());
    }
    CK_INFO("clock", "set by " << source << ": offset was " << (t - result.before).count() << " s");
    result.filed = checkins.file_held();
    result.after = device.clock.now();
    return result;
}

void restore_clock_correction(Device& device)
{
    auto text = device.store->meta("clock_correction");
    if (!text) return;
    auto kept = nlohmann::json::parse(*text, nullptr, false);
    if (!kept.is_object()) return;
    auto number = [&](const char* key) {
        auto it = kept.find(key);
        return it != kept.end() && it->is_number_integer() ? it->get<std::int64_t>() : 0;
    };
    auto text_of = [&](const char* key) {
        auto it = kept.find(key);
        return it != kept.end() && it->is_string() ? it->get<std::string>() : std::string();
    };
    DeviceClock::Correction c{Instant{std::chrono::seconds(number("at"))},
                              std::chrono::milliseconds(number("since_boot_ms")),
                              text_of("boot_id"), text_of("source")};
    if (device.clock.restore(c)) {
        CK_INFO("clock", "kept the " << c.source << " correction from before the restart");
    }
}

}  // namespace ck

// The device's config file (app/config.hpp parse_config_text, what load_config_file reads),
// the module in it, and the timetable the device resolves from that module.
//
// `init` writes config_to_json() of an accepted config to DATA/config.json, which every
// later start reads back: so an accepted config must serialise and read back the same.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "app/config.hpp"
#include "core/schedule.hpp"
#include "fuzz_check.hpp"
#include "roster_checks.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    auto config = ck::parse_config_text(text, ck::lookup_system_zone, "fuzz.json");
    if (!config) {
        CK_FUZZ_CHECK(config.status().code() == "invalid_config");
        return 0;
    }
    const nlohmann::json written = ck::config_to_json(*config);
    CK_FUZZ_CHECK(ck::fuzz::serialises(written));
    auto again = ck::parse_config(written, ck::lookup_system_zone);
    CK_FUZZ_CHECK(again.is_ok());
    CK_FUZZ_CHECK(ck::config_to_json(*again) == written);
    CK_FUZZ_CHECK(ck::fuzz::serialises(ck::module_to_json(config->module)));

    // What the device does with the module: resolve its sessions, then ask where instants
    // fall (every session's edges).
    const ck::Schedule schedule(config->module);
    CK_FUZZ_CHECK(schedule.sessions().size() ==
                  static_cast<std::size_t>(config->module.session_count()));
    for (const ck::ResolvedSession& s : schedule.sessions()) {
        // Not start < end: a session inside a spring-forward gap resolves to the instant of
        // the change at both ends (core/time.hpp; schedule_test.cpp pins it down).
        CK_FUZZ_CHECK(s.start <= s.end && s.window_opens <= s.start);
        CK_FUZZ_CHECK(schedule.find(s.spec->id) == &s);
        (void)schedule.open_session(s.window_opens);
        (void)schedule.next_session(s.end);
    }
    return 0;
}

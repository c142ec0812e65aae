#include <iostream>

#include "app/device.hpp"
#include "cli/commands.hpp"
#include "core/qr.hpp"

namespace ck {

int cmd_credential(const std::string& data_dir, bool svg, bool reissue,
                   const std::vector<std::string>& ids)
{
    auto opened = open_device(data_dir);
    if (!opened) return report_failure(opened.status());
    Device& device = **opened;
    if (!device.signing_key) {
        return report_failure(Status::error(err::invalid_config, "this device has no signing key",
                                            "Badges come from the registry; or run init to "
                                            "create a key."));
    }
    std::vector<std::string> wanted = ids;
    if (wanted.empty()) {
        for (const auto& a : device.store->attendees()) wanted.push_back(a.id);
    }
    for (const auto& id : wanted) {
        if (!device.store->attendee(id)) {
            return report_failure(Status::error(err::not_found,
                                                "no attendee " + id + " in the roster",
                                                "Import the roster first, or check the id."));
        }
    }
    if (svg && wanted.size() != 1) {
        std::cerr << "course-kiosk: --svg prints one QR code: give exactly one ATTENDEE_ID\n";
        return kExitUsage;
    }
    if (reissue && ids.empty()) {
        std::cerr << "course-kiosk: --reissue needs the ATTENDEE_IDs whose badges to replace\n";
        return kExitUsage;
    }
    for (const auto& id : wanted) {
        if (reissue) {
            auto next = device.store->reissue(id, "re-issued with course-kiosk credential");
            if (!next) return report_failure(next.status());
        }
        std::string text = device.credential_for(id);
        if (svg) {
            std::cout << qr_svg(text);
        } else {
            std::cout << id << "\t" << text << "\n";
        }
    }
    return kExitOk;
}

}  // namespace ck

#include <iostream>

#include "app/commands.hpp"
#include "app/device.hpp"
#include "core/qr.hpp"

namespace ck {

int cmd_credential(const std::string& data_dir, bool svg, const std::vector<std::string>& ids)
{
    auto opened = open_device(data_dir);
    if (!opened) return report_failure(opened.status());
    Device& device = **opened;
    if (!device.signing_key) {
        return report_failure(Status::error("invalid_config", "this device has no signing key",
                                            "Badges come from the registry; or run init to "
                                            "create a key."));
    }
    std::vector<std::string> wanted = ids;
    if (wanted.empty()) {
        for (const auto& a : device.store->attendees()) wanted.push_back(a.id);
    }
    for (const auto& id : wanted) {
        if (!device.store->attendee(id)) {
            return report_failure(Status::error("not_found", "no attendee " + id + " in the roster",
                                                "Import the roster first, or check the id."));
        }
    }
    for (const auto& id : wanted) {
        Credential credential;
        credential.module_id = device.config.module.id();
        credential.attendee_id = id;
        credential.issue = 1;
        std::string text = device.signing_key->issue(credential);
        if (svg) {
            std::cout << qr_svg(text);
        } else {
            std::cout << id << "\t" << text << "\n";
        }
    }
    return kExitOk;
}

}  // namespace ck

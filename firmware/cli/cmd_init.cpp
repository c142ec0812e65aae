#include <iostream>

#include "app/device.hpp"
#include "cli/commands.hpp"

namespace ck {

int report_failure(const Status& status)
{
    std::cerr << "course-kiosk: " << status.message();
    if (!status.hint().empty()) std::cerr << " (" << status.hint() << ")";
    std::cerr << "\n";
    return kExitFailure;
}

int cmd_init(const std::string& data_dir, const std::string& config_path)
{
    if (Status s = init_device(data_dir, config_path); !s) return report_failure(s);
    auto device = open_device(data_dir);
    if (!device) return report_failure(device.status());
    std::cout << "Initialised " << data_dir << " for " << (*device)->config.module.id()
              << " (signing key " << key_id_hex((*device)->signing_key->key_id()) << ")\n";
    return kExitOk;
}

}  // namespace ck

// A device's name at the registry (config "device_id", the events path, device tokens):
// 1..63 characters of lower-case letters, digits and '-', not starting with '-'.
#pragma once

#include <string_view>

namespace ck {

bool is_device_id(std::string_view text);

}  // namespace ck

#include "core/device_id.hpp"

namespace ck {

bool is_device_id(std::string_view text)
{
    if (text.empty() || text.size() > 63 || text.front() == '-') return false;
    for (char c : text) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
        if (!ok) return false;
    }
    return true;
}

}  // namespace ck

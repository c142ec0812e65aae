#include "core/listen_address.hpp"

namespace ck {

std::optional<ListenAddress> parse_listen(std::string_view text)
{
    auto colon = text.rfind(':');
    if (colon == std::string_view::npos || colon == 0) return std::nullopt;
    ListenAddress a;
    a.host = std::string(text.substr(0, colon));
    if (a.host.size() > 2 && a.host.front() == '[' && a.host.back() == ']')
        a.host = a.host.substr(1, a.host.size() - 2);
    auto port = text.substr(colon + 1);
    if (port.empty() || port.size() > 5) return std::nullopt;
    int p = 0;
    for (char ch : port) {
        if (ch < '0' || ch > '9') return std::nullopt;
        p = p * 10 + (ch - '0');
    }
    if (p > 65535) return std::nullopt;
    a.port = p;
    return a;
}

}  // namespace ck

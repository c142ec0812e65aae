// "HOST:PORT" as the device's config and both servers' --listen take it.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace ck {

// "HOST:PORT" -> host and port; nullopt when malformed. Port 0 means any free port. An IPv6
// host may be bracketed ("[::1]:8080").
struct ListenAddress {
    std::string host;
    int port = 0;
};
std::optional<ListenAddress> parse_listen(std::string_view text);

}  // namespace ck

// The address a request comes from, for rate limits, the audit log and the display's
// "on the device itself" check: the peer's address, or, when the peer is one of the
// configured trusted reverse proxies (config http.trusted_proxies), the client it forwarded.
// X-Forwarded-For is read from the right, past the trusted proxies, so a client cannot
// choose its address by sending the header itself; from anyone else the header is ignored.
#pragma once

#include <httplib.h>

#include <array>
#include <optional>
#include <string>
#include <vector>

namespace ck {

class ClientAddresses {
public:
    explicit ClientAddresses(const std::vector<std::string>& trusted_proxies);
    std::string of(const httplib::Request& req) const;

private:
    using Address = std::array<unsigned char, 16>;  // IPv4 as IPv4-mapped IPv6
    static std::optional<Address> parse(const std::string& text);
    bool trusted(const std::string& text) const;
    std::vector<Address> trusted_;
};

}  // namespace ck

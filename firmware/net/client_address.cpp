#include "net/client_address.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>

namespace ck {

ClientAddresses::ClientAddresses(const std::vector<std::string>& trusted_proxies)
{
    for (const auto& text : trusted_proxies) {
        if (auto address = parse(text)) trusted_.push_back(*address);
    }
}

std::optional<ClientAddresses::Address> ClientAddresses::parse(const std::string& text)
{
    Address address{};
    if (inet_pton(AF_INET6, text.c_str(), address.data()) == 1) return address;
    unsigned char v4[4];
    if (inet_pton(AF_INET, text.c_str(), v4) != 1) return std::nullopt;
    address[10] = address[11] = 0xff;
    std::memcpy(address.data() + 12, v4, 4);
    return address;
}

bool ClientAddresses::trusted(const std::string& text) const
{
    auto address = parse(text);
    return address && std::find(trusted_.begin(), trusted_.end(), *address) != trusted_.end();
}

std::string ClientAddresses::of(const httplib::Request& req) const
{
    if (trusted_.empty() || !trusted(req.remote_addr)) return req.remote_addr;
    // Every hop, in order, over all X-Forwarded-For lines.
    std::vector<std::string> hops;
    for (std::size_t i = 0, n = req.get_header_value_count("X-Forwarded-For"); i < n; ++i) {
        const std::string line = req.get_header_value("X-Forwarded-For", i);
        std::size_t pos = 0;
        while (pos <= line.size()) {
            std::size_t end = std::min(line.find(',', pos), line.size());
            std::string hop = line.substr(pos, end - pos);
            hop.erase(0, hop.find_first_not_of(" \t"));
            hop.erase(hop.find_last_not_of(" \t") + 1);
            hops.push_back(hop);
            pos = end + 1;
        }
    }
    std::string client = req.remote_addr;
    for (auto hop = hops.rbegin(); hop != hops.rend(); ++hop) {
        if (!parse(*hop)) break;  // garbage: the last hop we could believe stands
        client = *hop;
        if (!trusted(*hop)) break;
    }
    return client;
}

}  // namespace ck

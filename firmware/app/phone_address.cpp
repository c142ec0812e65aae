#include "app/phone_address.hpp"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <utility>

namespace ck {
namespace {

bool is_wildcard_host(std::string_view host)
{
    return host == "0.0.0.0" || host == "::" || host == "*";
}

std::string url_host(const std::string& host)
{
    return host.find(':') != std::string::npos ? "[" + host + "]" : host;
}

// An address a phone on the same network can use: not loopback, not link-local (a
// 169.254/16 or fe80::/10 address is what an interface gets when DHCP failed, or is only
// meaningful on its own link with a zone), not unspecified.
bool usable(const InterfaceAddress& a)
{
    if (!a.up || a.loopback) return false;
    if (!a.ipv6) {
        in_addr v4{};
        if (inet_pton(AF_INET, a.address.c_str(), &v4) != 1) return false;
        std::uint32_t ip = ntohl(v4.s_addr);
        return ip != 0 && (ip >> 24) != 127 && (ip >> 16) != 0xA9FE;  // 169.254/16
    }
    in6_addr v6{};
    if (inet_pton(AF_INET6, a.address.c_str(), &v6) != 1) return false;
    return !IN6_IS_ADDR_UNSPECIFIED(&v6) && !IN6_IS_ADDR_LOOPBACK(&v6) &&
           !IN6_IS_ADDR_LINKLOCAL(&v6) && !IN6_IS_ADDR_V4MAPPED(&v6);
}

PhoneAddress found(std::string base_url, std::string source, std::string interface = {})
{
    PhoneAddress phone;
    phone.base_url = std::move(base_url);
    phone.source = std::move(source);
    phone.interface = std::move(interface);
    return phone;
}

PhoneAddress none(std::string problem)
{
    PhoneAddress phone;
    phone.source = "none";
    phone.problem = std::move(problem);
    return phone;
}

}  // namespace

bool is_loopback_host(std::string_view host)
{
    return host == "localhost" || host == "::1" || host == "::ffff:127.0.0.1" ||
           host.substr(0, 4) == "127.";
}

std::string host_of_url(std::string_view url)
{
    auto start = url.find("//");
    if (start == std::string_view::npos) return {};
    std::string_view rest = url.substr(start + 2);
    rest = rest.substr(0, rest.find_first_of("/?#"));
    rest = rest.substr(rest.rfind('@') == std::string_view::npos ? 0 : rest.rfind('@') + 1);
    if (!rest.empty() && rest.front() == '[') {
        auto close = rest.find(']');
        return std::string(rest.substr(1, close == std::string_view::npos ? rest.npos : close - 1));
    }
    return std::string(rest.substr(0, rest.find(':')));
}

PhoneAddress choose_phone_address(const std::string& public_url, const std::string& listen_host,
                                  int port, const std::vector<InterfaceAddress>& interfaces)
{
    const std::string suffix = ":" + std::to_string(port);
    if (!public_url.empty()) {
        std::string base = public_url;
        while (!base.empty() && base.back() == '/') base.pop_back();
        return found(base, "public_url");
    }
    if (is_loopback_host(listen_host)) {
        return none("Phones cannot reach this device: it listens on " + listen_host + suffix +
                    " only. Set \"listen\" to \"0.0.0.0" + suffix +
                    "\" (or set public_url) in the config and restart the service.");
    }
    if (!is_wildcard_host(listen_host))
        return found("http://" + url_host(listen_host) + suffix, "listen");
    const bool ipv6_too = listen_host == "::";
    for (bool want_ipv6 : {false, true}) {
        if (want_ipv6 && !ipv6_too) break;
        auto it = std::find_if(interfaces.begin(), interfaces.end(),
                               [&](const auto& a) { return a.ipv6 == want_ipv6 && usable(a); });
        if (it != interfaces.end()) {
            return found("http://" + url_host(it->address) + suffix, "interface", it->interface);
        }
    }
    return none(
        "Phones cannot reach this device: it has no network address (is it connected to the "
        "venue network?). Connect it, or set public_url in the config and restart the service.");
}

std::vector<InterfaceAddress> interface_addresses()
{
    std::vector<InterfaceAddress> out;
    ifaddrs* list = nullptr;
    if (getifaddrs(&list) != 0) return out;
    for (const ifaddrs* i = list; i != nullptr; i = i->ifa_next) {
        if (i->ifa_addr == nullptr) continue;
        const int family = i->ifa_addr->sa_family;
        if (family != AF_INET && family != AF_INET6) continue;
        std::array<char, INET6_ADDRSTRLEN> text{};
        const void* raw = family == AF_INET
                              ? static_cast<const void*>(
                                    &reinterpret_cast<const sockaddr_in*>(i->ifa_addr)->sin_addr)
                              : static_cast<const void*>(
                                    &reinterpret_cast<const sockaddr_in6*>(i->ifa_addr)->sin6_addr);
        if (inet_ntop(family, raw, text.data(), text.size()) == nullptr) continue;
        InterfaceAddress a;
        a.interface = i->ifa_name ? i->ifa_name : "";
        a.address = text.data();
        a.ipv6 = family == AF_INET6;
        a.up = (i->ifa_flags & IFF_UP) != 0 && (i->ifa_flags & IFF_RUNNING) != 0;
        a.loopback = (i->ifa_flags & IFF_LOOPBACK) != 0;
        out.push_back(std::move(a));
    }
    freeifaddrs(list);
    return out;
}

}  // namespace ck

// Where attendees' phones reach the device: the base of the entrance display's QR code
// (SPEC section 5, issue 14 item 1). The display and `doctor` ask the same question here,
// so they give the same answer.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace ck {

// One address of one network interface, as getifaddrs() lists it.
struct InterfaceAddress {
    std::string interface;  // "wlan0"
    std::string address;    // numeric: "192.168.1.20", "2001:db8::20"
    bool ipv6 = false;
    bool up = false;        // IFF_UP and IFF_RUNNING: configured, with a carrier
    bool loopback = false;  // IFF_LOOPBACK
};

// The base URL phones are sent to, and where it came from.
struct PhoneAddress {
    std::string base_url;   // "http://192.168.1.20:8080", no slash at the end; empty: none
    std::string source;     // "public_url", "listen", "interface" or "none"
    std::string interface;  // source "interface": which one ("wlan0")
    std::string problem;    // source "none": why, and what to do, in words for staff
};

// The address phones should use, in this order:
//   1. `public_url` when it is set (the operator knows best: a proxy, a DNS name);
//   2. the listening host, when it is neither a wildcard nor loopback;
//   3. when listening on a wildcard ("0.0.0.0", "::"), the first usable address of an
//      interface that is up: not loopback, not link-local; IPv4 before IPv6, and IPv6
//      only when the wildcard is "::";
//   4. none. A server that listens on loopback only cannot be reached by any phone,
//      whatever addresses the device has, so loopback goes straight to none.
// Pure: `interfaces` is the list interface_addresses() reads (tests pass their own).
PhoneAddress choose_phone_address(const std::string& public_url, const std::string& listen_host,
                                  int port, const std::vector<InterfaceAddress>& interfaces);

// The device's interface addresses now (getifaddrs); empty when it cannot tell.
std::vector<InterfaceAddress> interface_addresses();

// "127.0.0.1", "127.x.y.z", "::1", "localhost", "::ffff:127.0.0.1".
bool is_loopback_host(std::string_view host);
// The host of "http://HOST:PORT/..." ("[::1]" gives "::1"); "" when `url` has no "//".
std::string host_of_url(std::string_view url);

}  // namespace ck

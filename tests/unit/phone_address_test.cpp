// Where the display's QR code sends phones (app/phone_address.hpp): public_url, else the
// listening address, else an interface address, else none with a reason; never loopback.
#include "app/phone_address.hpp"

#include <doctest/doctest.h>

#include <string>
#include <utility>
#include <vector>

namespace {

using ck::InterfaceAddress;

InterfaceAddress address(std::string name, std::string text, bool ipv6, bool up = true,
                         bool loopback = false)
{
    InterfaceAddress a;
    a.interface = std::move(name);
    a.address = std::move(text);
    a.ipv6 = ipv6;
    a.up = up;
    a.loopback = loopback;
    return a;
}

InterfaceAddress v4(std::string name, std::string text, bool up = true)
{
    return address(std::move(name), std::move(text), false, up);
}

InterfaceAddress v6(std::string name, std::string text)
{
    return address(std::move(name), std::move(text), true);
}

const InterfaceAddress kLoopback4 = address("lo", "127.0.0.1", false, true, true);
const InterfaceAddress kLoopback6 = address("lo", "::1", true, true, true);

}  // namespace

TEST_CASE("phone address: the order of the choice")
{
    const std::vector<InterfaceAddress> pi = {kLoopback4, kLoopback6, v4("wlan0", "192.168.1.20"),
                                              v6("wlan0", "2001:db8::20")};
    struct Case {
        const char* what;
        std::string public_url;
        std::string listen_host;
        std::vector<InterfaceAddress> interfaces;
        std::string base_url;  // "" : none
        std::string source;
        std::string interface;
    };
    const std::vector<Case> cases = {
        {"public_url wins over everything", "https://kiosk.example.org", "0.0.0.0", pi,
         "https://kiosk.example.org", "public_url", ""},
        {"public_url, even behind a loopback listener (a proxy)",
         "http://192.168.1.5:80/",
         "127.0.0.1",
         {},
         "http://192.168.1.5:80",
         "public_url",
         ""},
        {"a specific listening address", "", "192.168.1.20", pi, "http://192.168.1.20:8080",
         "listen", ""},
        {"a specific IPv6 listening address gets brackets",
         "",
         "2001:db8::20",
         {},
         "http://[2001:db8::20]:8080",
         "listen",
         ""},
        {"a listening host name",
         "",
         "kiosk-lille.local",
         {},
         "http://kiosk-lille.local:8080",
         "listen",
         ""},
        {"0.0.0.0: the first usable IPv4 interface address", "", "0.0.0.0", pi,
         "http://192.168.1.20:8080", "interface", "wlan0"},
        {"0.0.0.0 skips loopback, link-local, down and IPv6 addresses",
         "",
         "0.0.0.0",
         {kLoopback4, v4("eth0", "169.254.10.3"), v4("usb0", "10.0.0.7", false),
          v6("eth1", "2001:db8::7"), v4("eth1", "10.1.2.3")},
         "http://10.1.2.3:8080",
         "interface",
         "eth1"},
        {"0.0.0.0 with IPv6 addresses only: none",
         "",
         "0.0.0.0",
         {kLoopback4, kLoopback6, v6("eth0", "2001:db8::7")},
         "",
         "none",
         ""},
        {":: prefers IPv4",
         "",
         "::",
         {v6("eth0", "2001:db8::7"), v4("eth0", "10.1.2.3")},
         "http://10.1.2.3:8080",
         "interface",
         "eth0"},
        {":: takes a global IPv6 address, not a link-local one",
         "",
         "::",
         {kLoopback6, v6("eth0", "fe80::1"), v6("eth0", "fd00::2")},
         "http://[fd00::2]:8080",
         "interface",
         "eth0"},
        {"no interfaces at all: none", "", "0.0.0.0", {}, "", "none", ""},
        {"only loopback: none", "", "0.0.0.0", {kLoopback4, kLoopback6}, "", "none", ""},
        {"listening on 127.0.0.1: none, whatever the interfaces", "", "127.0.0.1", pi, "", "none",
         ""},
        {"listening on localhost: none", "", "localhost", pi, "", "none", ""},
        {"listening on ::1: none", "", "::1", pi, "", "none", ""},
    };
    for (const auto& c : cases) {
        CAPTURE(c.what);
        auto phone = ck::choose_phone_address(c.public_url, c.listen_host, 8080, c.interfaces);
        CHECK(phone.base_url == c.base_url);
        CHECK(phone.source == c.source);
        CHECK(phone.interface == c.interface);
        CHECK(phone.base_url.find("127.0.0.1") == std::string::npos);
        if (c.base_url.empty()) {
            CHECK(phone.problem.rfind("Phones cannot reach this device", 0) == 0);
            CHECK(phone.problem.find("public_url") != std::string::npos);
        } else {
            CHECK(phone.problem.empty());
        }
    }
}

TEST_CASE("phone address: the reasons say what to do")
{
    auto loopback = ck::choose_phone_address("", "127.0.0.1", 8081, {v4("eth0", "10.1.2.3")});
    CHECK(loopback.problem.find("listens on 127.0.0.1:8081 only") != std::string::npos);
    CHECK(loopback.problem.find("\"0.0.0.0:8081\"") != std::string::npos);
    auto unplugged = ck::choose_phone_address("", "0.0.0.0", 8081, {kLoopback4});
    CHECK(unplugged.problem.find("no network address") != std::string::npos);
}

TEST_CASE("phone address: loopback hosts and the host of a URL")
{
    for (const char* host : {"127.0.0.1", "127.1.2.3", "::1", "localhost", "::ffff:127.0.0.1"}) {
        CAPTURE(host);
        CHECK(ck::is_loopback_host(host));
    }
    for (const char* host : {"0.0.0.0", "192.168.1.20", "::", "kiosk.local", "1270.0.0.1"}) {
        CAPTURE(host);
        CHECK_FALSE(ck::is_loopback_host(host));
    }
    CHECK(ck::host_of_url("http://127.0.0.1:8080") == "127.0.0.1");
    CHECK(ck::host_of_url("https://kiosk.example.org/x?y") == "kiosk.example.org");
    CHECK(ck::host_of_url("http://[::1]:8080") == "::1");
    CHECK(ck::host_of_url("kiosk.local") == "");
}

TEST_CASE("phone address: this machine's interfaces are listed with their flags")
{
    // Every Linux machine has a loopback interface; it is listed, flagged and never chosen.
    auto interfaces = ck::interface_addresses();
    bool loopback_seen = false;
    for (const auto& a : interfaces) loopback_seen |= a.loopback && a.address == "127.0.0.1";
    CHECK(loopback_seen);
    auto phone = ck::choose_phone_address("", "0.0.0.0", 8080, interfaces);
    CHECK(phone.base_url.find("127.") == std::string::npos);
}

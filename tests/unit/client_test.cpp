// Who a request comes from, and what that costs it: the client address behind trusted
// reverse proxies (and nobody else's X-Forwarded-For), and phone sign-in limited by
// failures only, so that people sharing one address do not use each other up.
#include <doctest/doctest.h>

#include "net/client_address.hpp"
#include "test_device.hpp"

namespace {

using ck::test::TestDevice;
using ck::test::TestDeviceOptions;
using namespace std::chrono_literals;

httplib::Request from(const std::string& peer, std::vector<std::string> forwarded = {})
{
    httplib::Request req;
    req.remote_addr = peer;
    for (auto& line : forwarded) req.headers.emplace("X-Forwarded-For", line);
    return req;
}

std::string display_token(TestDevice& t)
{
    auto state = t.call("GET", "/api/v1/display", "", "", {}, "127.0.0.1").json();
    std::string url = state["token_url"];
    return url.substr(url.find("t=") + 2);
}

TestDevice::Answer identify(TestDevice& t, const std::string& token, const std::string& id,
                            const std::string& family, const httplib::Headers& headers,
                            const std::string& peer)
{
    return t.call(
        "POST", "/api/v1/phone/identify",
        nlohmann::json{{"token", token}, {"attendee_id", id}, {"family_name", family}}.dump(), "",
        headers, peer);
}

}  // namespace

TEST_CASE("ClientAddresses: the peer, or what trusted proxies forwarded, read from the right")
{
    const ck::ClientAddresses clients({"10.0.0.1", "10.0.0.2", "::1"});
    struct Case {
        const char* name;
        httplib::Request req;
        std::string client;
    };
    const Case cases[] = {
        {"no proxy", from("192.0.2.7"), "192.0.2.7"},
        {"an untrusted peer's header is ignored", from("192.0.2.7", {"198.51.100.1"}), "192.0.2.7"},
        {"a trusted proxy without a header", from("10.0.0.1"), "10.0.0.1"},
        {"a trusted proxy names the client", from("10.0.0.1", {"198.51.100.1"}), "198.51.100.1"},
        {"a client's own forged entry is left of the real one",
         from("10.0.0.1", {"6.6.6.6, 198.51.100.1"}), "198.51.100.1"},
        {"two trusted proxies in a row", from("10.0.0.1", {"198.51.100.1, 10.0.0.2"}),
         "198.51.100.1"},
        {"over two header lines", from("10.0.0.1", {"6.6.6.6", "198.51.100.1, 10.0.0.2"}),
         "198.51.100.1"},
        {"IPv6 loopback as the proxy, spaces around", from("::1", {" 2001:db8::5 "}),
         "2001:db8::5"},
        {"IPv4-mapped peer", from("::ffff:10.0.0.1", {"198.51.100.1"}), "198.51.100.1"},
        {"garbage stops at the last believable hop", from("10.0.0.1", {"198.51.100.1, junk"}),
         "10.0.0.1"},
        {"all trusted: the leftmost", from("10.0.0.2", {"10.0.0.1"}), "10.0.0.1"},
    };
    for (const Case& c : cases) {
        CAPTURE(c.name);
        CHECK(clients.of(c.req) == c.client);
    }
    CHECK(ck::ClientAddresses({}).of(from("10.0.0.1", {"198.51.100.1"})) == "10.0.0.1");
}

TEST_CASE("config: http.trusted_proxies must be numeric addresses")
{
    TestDeviceOptions good;
    good.config = {{"http", {{"trusted_proxies", {"127.0.0.1", "::1"}}}}};
    TestDevice t(std::move(good));
    CHECK(t.device().config.trusted_proxies == std::vector<std::string>{"127.0.0.1", "::1"});
    CHECK(ck::config_to_json(t.device().config)["http"]["trusted_proxies"].size() == 2);

    nlohmann::json config = ck::config_to_json(t.device().config);
    for (const nlohmann::json& bad : {nlohmann::json("127.0.0.1"), nlohmann::json({"proxy.lan"}),
                                      nlohmann::json({1}), nlohmann::json({"10.0.0.0/8"})}) {
        CAPTURE(bad.dump());
        config["http"]["trusted_proxies"] = bad;
        auto parsed = ck::parse_config(config, ck::lookup_system_zone);
        REQUIRE_FALSE(parsed);
        CHECK(parsed.status().message().find("http.trusted_proxies") != std::string::npos);
    }
}

TEST_CASE("phone sign-in: successes never count, failures slow down their own client")
{
    TestDevice t;
    const std::string token = display_token(t);
    const std::string nat = "203.0.113.20";  // a venue's guest network, one address

    // Six people behind one address sign in, each first time right: none is refused.
    for (int person = 0; person < 3; ++person) {
        for (auto [id, family] : {std::pair{"A001", "Kowalska"}, std::pair{"A002", "Müller"}}) {
            CAPTURE(person);
            CHECK(identify(t, token, id, family, {}, nat).status / 100 == 2);
        }
    }
    // Four wrong guesses are answered; the fifth sets a wait that also stops right answers.
    for (int i = 0; i < 5; ++i) {
        CHECK(identify(t, token, "Z00" + std::to_string(i), "Nobody", {}, nat).status == 422);
    }
    auto limited = identify(t, token, "A003", "Dubois", {}, nat);
    CHECK(limited.status == 429);
    CHECK(limited.headers.find("Retry-After")->second == "60");
    CHECK(identify(t, token, "A003", "Dubois", {}, "203.0.113.21").status / 100 == 2);
    t.time().pass(60s);
    CHECK(identify(t, token, "A003", "Dubois", {}, nat).status / 100 == 2);
}

TEST_CASE("phone sign-in behind a trusted proxy: limited per forwarded client, not per proxy")
{
    TestDeviceOptions options;
    options.config = {{"http", {{"trusted_proxies", {"127.0.0.1"}}}}};
    TestDevice t(std::move(options));
    const std::string token = display_token(t);
    auto via_proxy = [](const std::string& client) {
        return httplib::Headers{{"X-Forwarded-For", client}};
    };
    for (int i = 0; i < 6; ++i) {
        identify(t, token, "Z00" + std::to_string(i), "Nobody", via_proxy("198.51.100.66"),
                 "127.0.0.1");
    }
    CHECK(identify(t, token, "A001", "Kowalska", via_proxy("198.51.100.66"), "127.0.0.1").status ==
          429);
    // Another phone through the same proxy is not held up by the guesser.
    CHECK(identify(t, token, "A001", "Kowalska", via_proxy("198.51.100.67"), "127.0.0.1").status /
              100 ==
          2);
    // And a guesser that is not the proxy cannot pick its own address with the header.
    for (int i = 0; i < 6; ++i) {
        identify(t, token, "Z10" + std::to_string(i), "Nobody",
                 via_proxy("198.51.100." + std::to_string(100 + i)), "192.0.2.99");
    }
    CHECK(identify(t, token, "A002", "Müller", via_proxy("198.51.100.200"), "192.0.2.99").status ==
          429);
}

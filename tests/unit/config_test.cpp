// The config file (app/config.hpp): defaults, every optional key, and refusals that name
// the key at fault.
#include "app/config.hpp"

#include <doctest/doctest.h>

namespace {

nlohmann::json minimal()
{
    return nlohmann::json::parse(R"({"module": {
      "cycle": "2026-2", "number": 3, "venue": "Lille", "timezone": "Europe/Paris",
      "days": [{"date": "2026-11-23", "sessions": [
        {"id": "d1-am", "label": "Monday morning", "start": "08:30", "end": "12:30",
         "cme_hours": 3.5}]}]}})");
}

ck::Result<ck::Config> parse(const nlohmann::json& json)
{
    return ck::parse_config(json, ck::lookup_system_zone);
}

}  // namespace

TEST_CASE("config: only the module is required; the rest has defaults")
{
    auto config = parse(minimal());
    REQUIRE_MESSAGE(config.is_ok(), config.status().message());
    CHECK(config->device_id == "course-kiosk");
    CHECK(config->listen == "127.0.0.1:8080");
    CHECK(config->public_url.empty());
    CHECK_FALSE(config->registry.has_value());
    CHECK_FALSE(config->refuse_checkins_when_untrusted);
    CHECK(config->max_body_bytes == 16 * 1024);
    CHECK(config->store_map_mb == 0);
    CHECK(config->module.id() == "ecnr-2026-2-m3");

    // What init copies into the data directory reads back the same.
    auto again = parse(ck::config_to_json(*config));
    REQUIRE(again.is_ok());
    CHECK(again->module.id() == config->module.id());
    CHECK(again->listen == config->listen);
}

TEST_CASE("config: every optional key is applied")
{
    auto json = minimal();
    json.merge_patch(nlohmann::json::parse(R"({
      "device_id": "lille-hall-a", "listen": "0.0.0.0:8081",
      "public_url": "http://192.168.1.20:8081",
      "clock": {"refuse_checkins_when_untrusted": true},
      "limits": {"max_body_bytes": 32768, "store_map_mb": 64,
                 "checkins_per_client_per_s": 5, "checkin_burst_per_client": 50},
      "registry": {"url": "https://registry.example.org", "token_file": "/etc/ck/token",
                   "ca_file": "/etc/ck/ca.pem", "interval_s": 60, "timeout_s": 5}})"));
    auto config = parse(json);
    REQUIRE_MESSAGE(config.is_ok(), config.status().message());
    CHECK(config->device_id == "lille-hall-a");
    CHECK(config->listen == "0.0.0.0:8081");
    CHECK(config->public_url == "http://192.168.1.20:8081");
    CHECK(config->refuse_checkins_when_untrusted);
    CHECK(config->max_body_bytes == 32768);
    CHECK(config->store_map_mb == 64);
    CHECK(config->checkins_per_client_per_s == 5);
    CHECK(config->checkin_burst_per_client == 50);
    REQUIRE(config->registry.has_value());
    CHECK(config->registry->url == "https://registry.example.org");
    CHECK(config->registry->token_file == "/etc/ck/token");
    CHECK(config->registry->ca_file == "/etc/ck/ca.pem");
    CHECK(config->registry->interval_s == 60);
    CHECK(config->registry->timeout_s == 5);
}

TEST_CASE("config: refusals name the key")
{
    struct Case {
        const char* name;
        const char* patch;
        const char* key;  // expected at the start of the message
    };
    const Case cases[] = {
        {"an unknown key", R"({"colour": "blue"})", "colour"},
        {"a device id with spaces", R"({"device_id": "hall a"})", "device_id"},
        {"a listen address without a port", R"({"listen": "0.0.0.0"})", "listen"},
        {"a registry without a token file", R"({"registry": {"url": "https://r.example"}})",
         "registry.token_file"},
        {"a registry URL of another scheme",
         R"({"registry": {"url": "ftp://r.example", "token_file": "/t"}})", "registry.url"},
        {"an interval of a second",
         R"({"registry": {"url": "https://r.example", "token_file": "/t", "interval_s": 1}})",
         "registry.interval_s"},
        {"a body limit that is text", R"({"limits": {"max_body_bytes": "big"}})",
         "limits.max_body_bytes"},
        {"trust that is not a boolean", R"({"clock": {"refuse_checkins_when_untrusted": 1}})",
         "clock.refuse_checkins_when_untrusted"},
    };
    for (const Case& c : cases) {
        CAPTURE(c.name);
        auto json = minimal();
        json.merge_patch(nlohmann::json::parse(c.patch));
        auto config = parse(json);
        REQUIRE_FALSE(config.is_ok());
        CHECK(config.status().code() == "invalid_config");
        CHECK(config.status().message().rfind(c.key, 0) == 0);
        CHECK_FALSE(config.status().hint().empty());
    }
    CHECK(parse(nlohmann::json::object()).status().message().rfind("module", 0) == 0);
    CHECK_FALSE(parse(nlohmann::json::array()).is_ok());
    auto zone = minimal();
    zone["module"]["timezone"] = "Europe/Atlantis";
    CHECK(parse(zone).status().code() == "invalid_config");
}

TEST_CASE("parse_listen: HOST:PORT, bracketed IPv6, port 0 for any")
{
    struct Case {
        const char* text;
        const char* host;  // nullptr: refused
        int port;
    };
    const Case cases[] = {
        {"127.0.0.1:8080", "127.0.0.1", 8080},
        {"0.0.0.0:0", "0.0.0.0", 0},
        {"[::1]:8080", "::1", 8080},
        {"kiosk.local:80", "kiosk.local", 80},
        {"127.0.0.1", nullptr, 0},
        {":8080", nullptr, 0},
        {"127.0.0.1:", nullptr, 0},
        {"127.0.0.1:65536", nullptr, 0},
        {"127.0.0.1:80a", nullptr, 0},
        {"127.0.0.1:123456", nullptr, 0},
    };
    for (const Case& c : cases) {
        CAPTURE(c.text);
        auto listen = ck::parse_listen(c.text);
        if (c.host == nullptr) {
            CHECK_FALSE(listen.has_value());
        } else {
            REQUIRE(listen.has_value());
            CHECK(listen->host == c.host);
            CHECK(listen->port == c.port);
        }
    }
}

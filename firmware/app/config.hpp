// The device's configuration file (JSON, schemas/config.schema.json, SPEC section 4).
//
// Every key but "module" has a default; the table in config.cpp is the one place that
// lists the keys, their defaults, help text and validation.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/listen_address.hpp"
#include "core/module.hpp"
#include "core/status.hpp"

namespace ck {

struct RegistryConfig {
    std::string url;
    std::string token_file;
    std::string ca_file;  // empty: the system's CA store
    int interval_s = 30;
    int timeout_s = 10;  // connect, read and write timeout of each request
};

struct Config {
    std::string device_id = "course-kiosk";
    std::string listen = "127.0.0.1:8080";
    std::string public_url;  // how phones reach the device, e.g. "http://192.168.1.20:8080"
    ModuleEdition module;
    nlohmann::json module_json;  // as written, kept for copying into the data directory
    std::optional<RegistryConfig> registry;
    bool refuse_checkins_when_untrusted = false;
    std::size_t max_body_bytes = 16 * 1024;
    unsigned store_map_mb = 0;              // 0: the store's default (1 GiB; 256 MiB on 32-bit)
    double checkins_per_client_per_s = 20;  // rate limit, token bucket refill
    double checkin_burst_per_client = 120;  // rate limit, bucket size
    // Reverse proxies whose X-Forwarded-For is believed (numeric addresses); nobody else's.
    std::vector<std::string> trusted_proxies;
    // A file with the bearer token Prometheus sends to scrape /metrics; empty: staff only.
    std::string metrics_token_file;
};

// Parses a whole config document. Errors have code "invalid_config" and name the key.
Result<Config> parse_config(const nlohmann::json& json, const ZoneLookup& lookup);
Result<Config> load_config_file(const std::string& path, const ZoneLookup& lookup);
// What load_config_file() does with the file's text; `name` (the path) prefixes the errors.
Result<Config> parse_config_text(std::string_view text, const ZoneLookup& lookup,
                                 const std::string& name);
nlohmann::json config_to_json(const Config& config);

// The production zone lookup: the system's IANA database (/usr/share/zoneinfo).
const date::time_zone* lookup_system_zone(std::string_view name);

}  // namespace ck

#include "app/config.hpp"

#include <arpa/inet.h>
#include <date/tz.h>

#include <fstream>
#include <functional>
#include <regex>
#include <set>
#include <sstream>

#include "core/device_id.hpp"

namespace ck {
namespace {

bool is_ip_address(const std::string& text)
{
    unsigned char bytes[16];
    return inet_pton(AF_INET, text.c_str(), bytes) == 1 ||
           inet_pton(AF_INET6, text.c_str(), bytes) == 1;
}

Status invalid(const std::string& key, const std::string& what)
{
    return Status::error(err::invalid_config, key + ": " + what,
                         "Fix the config file (see schemas/config.schema.json).");
}

// One row per optional key: its JSON pointer, help text and how to apply a value.
struct ConfigKey {
    const char* pointer;
    const char* help;
    std::function<Status(const nlohmann::json&, Config&)> apply;
};

Status want_number(const nlohmann::json& v, const std::string& key, double lo, double hi,
                   double& out)
{
    if (!v.is_number()) return invalid(key, "must be a number");
    double d = v.get<double>();
    if (d < lo || d > hi)
        return invalid(key, "must be between " + std::to_string(lo) + " and " + std::to_string(hi));
    out = d;
    return Status::ok();
}

const std::vector<ConfigKey>& config_keys()
{
    static const std::vector<ConfigKey> keys = {
        {"/device_id", "Name of this device at the registry; lower case, digits and '-'.",
         [](const nlohmann::json& v, Config& c) {
             if (!v.is_string() || !is_device_id(v.get<std::string>()))
                 return invalid("device_id", "must be lower-case letters, digits and '-'");
             c.device_id = v.get<std::string>();
             return Status::ok();
         }},
        {"/listen", "HOST:PORT the server listens on (default 127.0.0.1:8080).",
         [](const nlohmann::json& v, Config& c) {
             if (!v.is_string() || !parse_listen(v.get<std::string>()))
                 return invalid("listen", "must be \"HOST:PORT\", e.g. \"0.0.0.0:8080\"");
             c.listen = v.get<std::string>();
             return Status::ok();
         }},
        {"/public_url",
         "Base URL phones use to reach the device (the display's QR code points there); "
         "default: an address the device finds (app/phone_address.hpp).",
         [](const nlohmann::json& v, Config& c) {
             static const std::regex pattern("https?://[^/?#\\s]+");
             if (!v.is_string() || !std::regex_match(v.get<std::string>(), pattern))
                 return invalid("public_url", "must be like \"http://192.168.1.20:8080\"");
             c.public_url = v.get<std::string>();
             return Status::ok();
         }},
        {"/clock/refuse_checkins_when_untrusted",
         "Refuse check-ins (clock_not_trusted) instead of recording them flagged.",
         [](const nlohmann::json& v, Config& c) {
             if (!v.is_boolean())
                 return invalid("clock.refuse_checkins_when_untrusted", "must be true or false");
             c.refuse_checkins_when_untrusted = v.get<bool>();
             return Status::ok();
         }},
        {"/limits/max_body_bytes", "Largest accepted API request body (default 16384).",
         [](const nlohmann::json& v, Config& c) {
             double d = 0;
             if (Status s = want_number(v, "limits.max_body_bytes", 1024, 1048576, d); !s) return s;
             c.max_body_bytes = static_cast<std::size_t>(d);
             return Status::ok();
         }},
        {"/limits/store_map_mb",
         "Largest size of the store in MiB (default 1024; 256 on 32-bit systems). Raise it "
         "when the store is full; it only reserves address space.",
         [](const nlohmann::json& v, Config& c) {
             double d = 0;
             const double most = sizeof(void*) == 4 ? 1024 : 65536;
             if (Status s = want_number(v, "limits.store_map_mb", 1, most, d); !s) return s;
             if (d != static_cast<double>(static_cast<unsigned>(d)))
                 return invalid("limits.store_map_mb", "must be a whole number of MiB");
             c.store_map_mb = static_cast<unsigned>(d);
             return Status::ok();
         }},
        {"/limits/checkins_per_client_per_s", "Sustained check-in rate allowed per client.",
         [](const nlohmann::json& v, Config& c) {
             return want_number(v, "limits.checkins_per_client_per_s", 0.1, 100000,
                                c.checkins_per_client_per_s);
         }},
        {"/limits/checkin_burst_per_client", "Check-ins a client may send in a burst.",
         [](const nlohmann::json& v, Config& c) {
             return want_number(v, "limits.checkin_burst_per_client", 1, 1000000,
                                c.checkin_burst_per_client);
         }},
        {"/http/trusted_proxies",
         "Addresses of reverse proxies in front of the device whose X-Forwarded-For names the "
         "client (rate limits and the audit log use it); default: none.",
         [](const nlohmann::json& v, Config& c) {
             if (!v.is_array()) return invalid("http.trusted_proxies", "must be a list");
             c.trusted_proxies.clear();
             for (const auto& item : v) {
                 if (!item.is_string() || !is_ip_address(item.get<std::string>()))
                     return invalid("http.trusted_proxies",
                                    "must list numeric IP addresses, e.g. \"127.0.0.1\"");
                 c.trusted_proxies.push_back(item.get<std::string>());
             }
             return Status::ok();
         }},
        {"/metrics/token_file",
         "A file with the bearer token a Prometheus server sends to scrape /metrics "
         "(its `authorization` setting); default: /metrics needs a staff login.",
         [](const nlohmann::json& v, Config& c) {
             if (!v.is_string() || v.get<std::string>().empty())
                 return invalid("metrics.token_file", "must name the file with the token");
             c.metrics_token_file = v.get<std::string>();
             return Status::ok();
         }},
        {"/registry", "The central registry: url, token_file, ca_file, interval_s, timeout_s.",
         [](const nlohmann::json& v, Config& c) {
             if (v.is_null()) return Status::ok();
             if (!v.is_object()) return invalid("registry", "must be an object");
             RegistryConfig r;
             auto url = v.find("url");
             if (url == v.end() || !url->is_string() ||
                 !std::regex_match(url->get<std::string>(), std::regex("https?://.+")))
                 return invalid("registry.url", "must be an http:// or https:// URL");
             r.url = url->get<std::string>();
             auto token = v.find("token_file");
             if (token == v.end() || !token->is_string() || token->get<std::string>().empty())
                 return invalid("registry.token_file", "must name the file with the token");
             r.token_file = token->get<std::string>();
             if (auto ca = v.find("ca_file"); ca != v.end() && !ca->is_null()) {
                 if (!ca->is_string()) return invalid("registry.ca_file", "must be a path");
                 r.ca_file = ca->get<std::string>();
             }
             if (auto interval = v.find("interval_s"); interval != v.end()) {
                 double d = 0;
                 if (Status s = want_number(*interval, "registry.interval_s", 5, 3600, d); !s)
                     return s;
                 r.interval_s = static_cast<int>(d);
             }
             if (auto timeout = v.find("timeout_s"); timeout != v.end()) {
                 double d = 0;
                 if (Status s = want_number(*timeout, "registry.timeout_s", 1, 120, d); !s)
                     return s;
                 r.timeout_s = static_cast<int>(d);
             }
             c.registry = r;
             return Status::ok();
         }},
    };
    return keys;
}

}  // namespace

const date::time_zone* lookup_system_zone(std::string_view name)
{
    try {
        return date::locate_zone(name);
    } catch (const std::exception&) {
        return nullptr;
    }
}

Result<Config> parse_config(const nlohmann::json& json, const ZoneLookup& lookup)
{
    if (!json.is_object()) return invalid("(top level)", "must be a JSON object");
    static const std::set<std::string> known = {"device_id", "listen",   "public_url",
                                                "module",    "registry", "clock",
                                                "limits",    "http",     "metrics"};
    for (const auto& item : json.items()) {
        if (!known.count(item.key())) return invalid(item.key(), "is not a known key");
    }
    auto module = json.find("module");
    if (module == json.end()) return invalid("module", "is required");
    auto parsed = parse_module(*module, lookup);
    if (!parsed) return parsed.status();
    Config config;
    config.module = std::move(*parsed);
    config.module_json = *module;
    for (const auto& key : config_keys()) {
        nlohmann::json::json_pointer pointer(key.pointer);
        if (!json.contains(pointer)) continue;
        if (Status s = key.apply(json.at(pointer), config); !s) return s;
    }
    return config;
}

Result<Config> load_config_file(const std::string& path, const ZoneLookup& lookup)
{
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        return Status::error(err::invalid_config, "cannot read the config file " + path,
                             "Check the path and that the file is readable.");
    }
    std::stringstream buffer;
    buffer << in.rdbuf();
    return parse_config_text(buffer.str(), lookup, path);
}

Result<Config> parse_config_text(std::string_view text, const ZoneLookup& lookup,
                                 const std::string& name)
{
    auto json = nlohmann::json::parse(text, nullptr, false);
    if (json.is_discarded()) {
        return Status::error(err::invalid_config, "the config file " + name + " is not valid JSON",
                             "Check it with a JSON validator; see schemas/config.schema.json.");
    }
    auto config = parse_config(json, lookup);
    if (!config) {
        return Status::error(err::invalid_config, name + ": " + config.status().message(),
                             config.status().hint());
    }
    return config;
}

nlohmann::json config_to_json(const Config& c)
{
    nlohmann::json json = {
        {"device_id", c.device_id},
        {"listen", c.listen},
        {"module", c.module_json},
        {"clock", {{"refuse_checkins_when_untrusted", c.refuse_checkins_when_untrusted}}},
        {"limits",
         {{"max_body_bytes", c.max_body_bytes},
          {"checkins_per_client_per_s", c.checkins_per_client_per_s},
          {"checkin_burst_per_client", c.checkin_burst_per_client}}}};
    if (c.store_map_mb != 0) json["limits"]["store_map_mb"] = c.store_map_mb;
    if (!c.public_url.empty()) json["public_url"] = c.public_url;
    if (!c.trusted_proxies.empty()) json["http"]["trusted_proxies"] = c.trusted_proxies;
    if (!c.metrics_token_file.empty()) json["metrics"]["token_file"] = c.metrics_token_file;
    if (c.registry) {
        json["registry"] = {
            {"url", c.registry->url},
            {"token_file", c.registry->token_file},
            {"ca_file", c.registry->ca_file.empty() ? nlohmann::json(nullptr)
                                                    : nlohmann::json(c.registry->ca_file)},
            {"interval_s", c.registry->interval_s},
            {"timeout_s", c.registry->timeout_s}};
    }
    return json;
}

}  // namespace ck

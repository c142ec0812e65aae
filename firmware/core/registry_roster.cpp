#include "core/registry_roster.hpp"

#include <openssl/evp.h>

#include <nlohmann/json.hpp>

namespace ck {
namespace {

Status bad(const std::string& what)
{
    return Status::error(err::bad_roster, "The registry's roster was refused: " + what,
                         "The previous roster stays in use; tell the registry's operators.");
}

bool decode_key(const std::string& text, PublicKey& out)
{
    if (text.size() != 44) return false;
    unsigned char buffer[36];
    int n = EVP_DecodeBlock(buffer, reinterpret_cast<const unsigned char*>(text.data()), 44);
    // 44 characters with one '=' decode to 33 bytes of which the last is padding.
    if (n != 33 || text[43] != '=' || text[42] == '=') return false;
    std::copy(buffer, buffer + 32, out.begin());
    return true;
}

}  // namespace

Result<RegistryRoster> parse_registry_roster(std::string_view text, std::string_view module_id)
{
    auto json = nlohmann::json::parse(text, nullptr, false);
    if (json.is_discarded() || !json.is_object()) return bad("it is not a JSON object");
    // Not json.value(): it throws when the key holds another type, and an exception here
    // would end the relay's thread, and with it the server.
    auto module = json.find("module_id");
    if (module == json.end() || !module->is_string() ||
        module->get_ref<const std::string&>() != module_id) {
        return bad("it is for another module");
    }
    for (const char* key : {"attendees", "revoked", "keys"}) {
        if (!json.contains(key) || !json[key].is_array()) {
            return bad(std::string("\"") + key + "\" is missing or not an array");
        }
    }
    RegistryRoster roster;
    RosterImport import = parse_roster_json(json["attendees"].dump());
    if (!import.file_error.empty()) return bad(import.file_error);
    if (!import.rejected.empty()) {
        const auto& p = import.rejected.front();
        return bad("attendee " + std::to_string(p.line) + " (" + p.id + "): " + p.message);
    }
    roster.attendees = std::move(import.accepted);
    for (const auto& r : json["revoked"]) {
        if (!r.is_object() || !r.contains("attendee_id") || !r["attendee_id"].is_string() ||
            !r.contains("issue") || !r["issue"].is_number_unsigned() ||
            r["issue"].get<std::uint64_t>() < 1 || r["issue"].get<std::uint64_t>() > 65535) {
            return bad("a revoked entry needs attendee_id and an issue 1..65535");
        }
        roster.revoked.emplace_back(r["attendee_id"].get<std::string>(),
                                    static_cast<std::uint16_t>(r["issue"].get<std::uint64_t>()));
    }
    for (const auto& k : json["keys"]) {
        if (!k.is_object() || !k.contains("key_id") || !k["key_id"].is_string() ||
            !k.contains("public_key") || !k["public_key"].is_string()) {
            return bad("a key needs key_id and public_key");
        }
        auto id = parse_key_id_hex(k["key_id"].get<std::string>());
        PublicKey key{};
        if (!id || !decode_key(k["public_key"].get<std::string>(), key)) {
            return bad("key " + k["key_id"].get<std::string>() + " is not a valid Ed25519 key");
        }
        roster.keys[*id] = key;
    }
    return roster;
}

}  // namespace ck

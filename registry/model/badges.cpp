#include "model/badges.hpp"

#include <openssl/evp.h>

#include <algorithm>

#include "core/badge_sheet.hpp"
#include "core/roster.hpp"

namespace ck::registry {

namespace {

std::string base64(const PublicKey& key)
{
    unsigned char out[48] = {};
    const int n = EVP_EncodeBlock(out, key.data(), static_cast<int>(key.size()));
    return std::string(reinterpret_cast<const char*>(out), static_cast<std::size_t>(n));
}

std::string hex(const PublicKey& key)
{
    static const char* const kDigits = "0123456789abcdef";
    std::string out;
    for (std::uint8_t b : key) {
        out += kDigits[b >> 4];
        out += kDigits[b & 15];
    }
    return out;
}

Result<std::vector<KeyInfo>> keys_where(Database& db, const std::string& condition)
{
    auto rows = db.exec(
        "SELECT key_id, encode(public_key, 'base64'), created_at, coalesce(retired_at::text, '') "
        "FROM signing_keys " +
        condition + " ORDER BY created_at, key_id");
    if (!rows) return rows.status();
    std::vector<KeyInfo> keys;
    for (int r = 0; r < rows->count(); ++r) {
        keys.push_back({static_cast<std::uint32_t>(std::stoul(rows->text(r, 0))), rows->text(r, 1),
                        rows->text(r, 2), rows->text(r, 3)});
    }
    return keys;
}

// The newest trusted key, with its private half; one is made when there is none.
Result<SigningKey> current_key(Database& db)
{
    auto rows = db.exec(
        "SELECT key_id, private_pem FROM signing_keys WHERE retired_at IS NULL "
        "ORDER BY created_at DESC, key_id DESC LIMIT 1");
    if (!rows) return rows.status();
    if (rows->count() == 0) {
        if (auto made = rotate_key(db); !made) return made.status();
        return current_key(db);
    }
    auto key = SigningKey::from_pem(rows->text(0, 1));
    if (!key) {
        return Status::error(err::storage_error,
                             "signing key " + rows->text(0, 0) + " in the database is not readable",
                             "Retire it (course-registry key retire) and rotate.");
    }
    return key->with_key_id(static_cast<std::uint32_t>(std::stoul(rows->text(0, 0))));
}

}  // namespace

Result<KeyInfo> rotate_key(Database& db)
{
    for (int attempt = 0; attempt < 3; ++attempt) {
        SigningKey key = SigningKey::generate();
        const PublicKey pub = key.public_key();
        // The id is the key's own (core/credential.hpp); on the rare clash with a key already
        // held, another key is made.
        auto rows = db.exec(
            "INSERT INTO signing_keys (key_id, public_key, private_pem) "
            "VALUES ($1, decode($2, 'hex'), $3) ON CONFLICT DO NOTHING "
            "RETURNING key_id, encode(public_key, 'base64'), created_at",
            {std::to_string(key.key_id()), hex(pub), key.to_pem()});
        if (!rows) return rows.status();
        if (rows->count() == 1) {
            return KeyInfo{key.key_id(), base64(pub), rows->text(0, 2), ""};
        }
    }
    return Status::error(err::storage_error, "could not make a signing key with a new id");
}

Status retire_key(Database& db, std::uint32_t key_id)
{
    auto rows = db.exec(
        "UPDATE signing_keys SET retired_at = now() WHERE key_id = $1 AND retired_at IS NULL "
        "RETURNING key_id",
        {std::to_string(key_id)});
    if (!rows) return rows.status();
    if (rows->count() == 0) {
        return Status::error(err::not_found, "no trusted signing key " + key_id_hex(key_id),
                             "course-registry key list shows the keys.");
    }
    return Status::ok();
}

Result<std::vector<KeyInfo>> list_keys(Database& db) { return keys_where(db, ""); }

Result<nlohmann::json> trusted_keys_json(Database& db)
{
    auto keys = keys_where(db, "WHERE retired_at IS NULL");
    if (!keys) return keys.status();
    nlohmann::json out = nlohmann::json::array();
    for (const auto& k : *keys) {
        out.push_back({{"key_id", key_id_hex(k.key_id)}, {"public_key", k.public_key_base64}});
    }
    return out;
}

Result<nlohmann::json> revoked_json(Database& db, const std::string& module_id)
{
    auto rows = db.exec(
        "SELECT attendee_id, issue, reason FROM revocations WHERE module_id = $1 "
        "ORDER BY attendee_id, issue",
        {module_id});
    if (!rows) return rows.status();
    nlohmann::json out = nlohmann::json::array();
    for (int r = 0; r < rows->count(); ++r) {
        nlohmann::json entry = {{"attendee_id", rows->text(r, 0)},
                                {"issue", std::stoi(rows->text(r, 1))}};
        if (auto reason = rows->get(r, 2)) entry["reason"] = *reason;
        out.push_back(std::move(entry));
    }
    return out;
}

Result<int> reissue_badge(Database& db, const std::string& module_id,
                          const std::string& attendee_id, const std::string& reason)
{
    int issue = 0;
    Status s = in_transaction(db, [&]() -> Status {
        auto rostered = db.exec(
            "SELECT 1 FROM roster_entries WHERE module_id = $1 AND attendee_id = $2 FOR UPDATE",
            {module_id, attendee_id});
        if (!rostered) return rostered.status();
        if (rostered->count() == 0) {
            return Status::error(err::not_found,
                                 attendee_id + " is not in the roster of " + module_id);
        }
        auto current = db.exec(
            "SELECT coalesce((SELECT issue FROM badge_issues WHERE module_id = $1 AND "
            "attendee_id = $2), 1)",
            {module_id, attendee_id});
        if (!current) return current.status();
        const int old_issue = std::stoi(current->text(0, 0));
        if (old_issue >= 65535) {
            return Status::error(err::invalid_credential, "no issue number is left for this badge");
        }
        issue = old_issue + 1;
        if (auto r = db.exec("INSERT INTO revocations (module_id, attendee_id, issue, reason) "
                             "VALUES ($1, $2, $3, nullif($4, '')) ON CONFLICT DO NOTHING",
                             {module_id, attendee_id, std::to_string(old_issue), reason});
            !r) {
            return r.status();
        }
        auto r = db.exec(
            "INSERT INTO badge_issues (module_id, attendee_id, issue) VALUES ($1, $2, $3) "
            "ON CONFLICT (module_id, attendee_id) DO UPDATE SET issue = excluded.issue",
            {module_id, attendee_id, std::to_string(issue)});
        return r ? Status::ok() : r.status();
    });
    if (!s) return s;
    return issue;
}

Result<std::vector<IssuedBadge>> issue_badges(Database& db, const std::string& module_id,
                                              const std::vector<std::string>& attendee_ids)
{
    auto known = db.exec("SELECT 1 FROM module_editions WHERE id = $1", {module_id});
    if (!known) return known.status();
    if (known->count() == 0) {
        return Status::error(err::unknown_module, "no module edition " + module_id,
                             "Add it first: course-registry module add FILE.json");
    }
    auto rows = db.exec(
        "SELECT a.id, a.family_name, a.given_name, coalesce(a.country, ''), "
        "coalesce(b.issue, 1) FROM roster_entries r JOIN attendees a ON a.id = r.attendee_id "
        "LEFT JOIN badge_issues b ON b.module_id = r.module_id AND b.attendee_id = a.id "
        "WHERE r.module_id = $1 ORDER BY a.id",
        {module_id});
    if (!rows) return rows.status();
    auto key = current_key(db);
    if (!key) return key.status();
    std::vector<IssuedBadge> roster;
    for (int r = 0; r < rows->count(); ++r) {
        IssuedBadge badge;
        badge.attendee.id = rows->text(r, 0);
        badge.attendee.family_name = rows->text(r, 1);
        badge.attendee.given_name = rows->text(r, 2);
        badge.attendee.country = rows->text(r, 3);
        Credential credential;
        credential.module_id = module_id;
        credential.attendee_id = badge.attendee.id;
        credential.issue = static_cast<std::uint16_t>(std::stoi(rows->text(r, 4)));
        badge.credential = key->issue(credential);
        roster.push_back(std::move(badge));
    }
    if (attendee_ids.empty()) return roster;
    std::vector<IssuedBadge> chosen;
    for (const std::string& id : attendee_ids) {
        auto it = std::find_if(roster.begin(), roster.end(),
                               [&](const IssuedBadge& b) { return b.attendee.id == id; });
        if (it == roster.end()) {
            return Status::error(err::not_found, id + " is not in the roster of " + module_id,
                                 "Import the roster first: course-registry roster import.");
        }
        chosen.push_back(*it);
    }
    return chosen;
}

Result<std::string> badge_sheet(Database& db, const std::string& module_id,
                                const std::vector<std::string>& attendee_ids,
                                const ZoneLookup& zones)
{
    auto badges = issue_badges(db, module_id, attendee_ids);
    if (!badges) return badges.status();
    auto config = db.exec("SELECT config::text FROM module_editions WHERE id = $1", {module_id});
    if (!config) return config.status();
    if (config->count() == 0) {
        return Status::error(err::unknown_module, "no module edition " + module_id);
    }
    auto module = parse_module(nlohmann::json::parse(config->text(0, 0)), zones);
    if (!module) return module.status();
    std::string html = badge_sheet_head(*module);
    std::size_t index = 0;
    for (const IssuedBadge& badge : *badges) {
        html += badge_html(*module, badge.attendee, badge.credential, index++);
    }
    html += badge_sheet_tail(index);
    return html;
}

}  // namespace ck::registry

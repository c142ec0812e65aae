// Personal check-in credentials: what an attendee's QR code carries (SPEC section 3).
//
// A credential names the attendee, the module edition and the signing key, and is signed
// with Ed25519 so that any device verifies it offline. docs/credential.md documents the
// bytes. Parsing never reads out of bounds, whatever the input.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.hpp"

namespace ck {

using PublicKey = std::array<std::uint8_t, 32>;

struct Credential {
    std::uint32_t key_id = 0;
    std::string module_id;    // e.g. "ecnr-2026-2-m3", 1..32 bytes
    std::string attendee_id;  // 1..64 bytes
    std::uint16_t issue = 1;  // incremented when a badge is re-issued
};

// Key ids are shown as 8 lower-case hex digits, e.g. "1a2b3c4d".
std::string key_id_hex(std::uint32_t key_id);
std::optional<std::uint32_t> parse_key_id_hex(std::string_view text);
// The id of a self-generated key: the first 4 bytes of SHA-256 of the public key.
std::uint32_t derive_key_id(const PublicKey& public_key);

// An Ed25519 private key (owns an OpenSSL EVP_PKEY).
class SigningKey {
public:
    static SigningKey generate();
    // PKCS#8 PEM, as written by to_pem(); nullopt if it is not an Ed25519 private key.
    static std::optional<SigningKey> from_pem(std::string_view pem);
    std::string to_pem() const;
    PublicKey public_key() const;
    std::uint32_t key_id() const { return key_id_; }
    // Returns a key with another id (for keys whose ids the registry assigns).
    SigningKey with_key_id(std::uint32_t key_id) const;

    // Signs `credential` (its key_id is replaced by this key's id) and returns the QR text.
    std::string issue(Credential credential) const;

private:
    struct Impl;
    std::shared_ptr<Impl> impl_;
    std::uint32_t key_id_ = 0;
};

// The public keys a device trusts, by id.
using TrustedKeys = std::map<std::uint32_t, PublicKey>;

// Decodes and verifies QR text. Leading and trailing whitespace (such as the CR LF a
// scanner sends) is ignored, and lower case is read as upper case (a scanner set to lower
// case, Caps Lock); the signature still decides. Errors, all with Status code "invalid_credential":
// not base32, wrong version, truncated or overlong fields, unknown key id, bad signature.
// Module and revocation checks are the caller's.
Result<Credential> verify_credential(std::string_view qr_text, const TrustedKeys& keys);

// verify_credential() for a device's hot path: the keys are parsed once, and up to
// `cache_size` texts it has verified are remembered, so a badge scanned again (every
// session of a module) costs a lookup instead of a signature check. Thread-safe. Build a
// new one when the trusted keys change; that also forgets what the old one verified.
class CredentialVerifier {
public:
    explicit CredentialVerifier(TrustedKeys keys, std::size_t cache_size = 4096);
    ~CredentialVerifier();
    CredentialVerifier(const CredentialVerifier&) = delete;
    CredentialVerifier& operator=(const CredentialVerifier&) = delete;

    Result<Credential> verify(std::string_view qr_text) const;
    const TrustedKeys& keys() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// Decodes without verifying the signature (for diagnostics and tests only).
Result<Credential> decode_credential_unverified(std::string_view qr_text);

}  // namespace ck

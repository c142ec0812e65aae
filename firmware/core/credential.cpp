// Credential bytes (docs/credential.md), version 1:
//   version(1) key_id(4, BE) M(1) module_id(M) A(1) attendee_id(A) issue(2, BE) signature(64)
// signed as  "course-kiosk credential v1" 0x00 || everything before the signature.
#include "core/credential.hpp"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <algorithm>
#include <climits>
#include <mutex>
#include <span>
#include <stdexcept>
#include <unordered_map>
#include <utility>

#include "core/base32.hpp"

namespace ck {
// --- OpenSSL ownership ---------------------------------------------------------------------
// In a named namespace: SigningKey::Impl and CredentialVerifier::Impl hold these, and a type
// with external linkage may not have members of an anonymous namespace's types (GCC warns in
// a unity build, where this file is included into another).
namespace openssl {

struct PkeyFree {
    void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct PkeyCtxFree {
    void operator()(EVP_PKEY_CTX* p) const { EVP_PKEY_CTX_free(p); }
};
struct MdCtxFree {
    void operator()(EVP_MD_CTX* p) const { EVP_MD_CTX_free(p); }
};
struct BioFree {
    void operator()(BIO* p) const { BIO_free(p); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;
using BioPtr = std::unique_ptr<BIO, BioFree>;

}  // namespace openssl

using openssl::BioPtr;
using openssl::MdCtxPtr;
using openssl::PkeyCtxPtr;
using openssl::PkeyPtr;

namespace {

constexpr std::uint8_t kVersion = 1;
constexpr std::size_t kMaxModuleIdLength = 32;
constexpr std::size_t kMaxAttendeeIdLength = 64;
constexpr std::size_t kSignatureLength = 64;
// The domain-separation prefix (with its terminating 0x00) is signed but never sent, so a
// signature over credential bytes cannot be replayed as a signature over anything else.
constexpr std::string_view kSigningContext{"course-kiosk credential v1\0", 27};
// The largest version-1 credential: 1+4+1+32+1+64+2+64 = 169 bytes = 271 base32 chars.
// Longer texts are refused before decoding, so hostile input costs nothing to reject.
constexpr std::size_t kMaxTextLength = 271;

// OpenSSL failures we expect (bad PEM, bad signature) leave entries on the thread's error
// queue; clearing them keeps later, unrelated error reports in this thread accurate.
[[noreturn]] void throw_openssl(const char* what)
{
    ERR_clear_error();
    throw std::runtime_error(std::string("OpenSSL: ") + what);
}

// A PEM password callback that refuses: the default one would prompt on the terminal.
int refuse_password(char* /*buf*/, int /*size*/, int /*rwflag*/, void* /*userdata*/) { return -1; }

PkeyPtr public_pkey(const PublicKey& public_key)
{
    return PkeyPtr(EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, public_key.data(),
                                               public_key.size()));
}

// `pkey` is only read, so one key serves any number of threads at once.
bool verify_ed25519(EVP_PKEY* pkey, std::span<const std::uint8_t> message,
                    std::span<const std::uint8_t> signature)
{
    MdCtxPtr ctx(EVP_MD_CTX_new());
    const bool ok = pkey && ctx &&
                    EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, pkey) == 1 &&
                    EVP_DigestVerify(ctx.get(), signature.data(), signature.size(), message.data(),
                                     message.size()) == 1;
    if (!ok) ERR_clear_error();
    return ok;
}

// --- field rules ---------------------------------------------------------------------------

bool is_module_id_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

bool is_attendee_id_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
}

template <class CharRule>
bool valid_id(std::string_view id, std::size_t max_length, CharRule is_allowed)
{
    if (id.empty() || id.size() > max_length) return false;
    for (char c : id) {
        if (!is_allowed(c)) return false;
    }
    return true;
}

// The signed part of the credential: version through issue. Fields must be valid.
std::vector<std::uint8_t> encode_body(const Credential& c)
{
    std::vector<std::uint8_t> out;
    out.reserve(1 + 4 + 1 + c.module_id.size() + 1 + c.attendee_id.size() + 2 + kSignatureLength);
    out.push_back(kVersion);
    for (int shift = 24; shift >= 0; shift -= 8) {
        out.push_back(static_cast<std::uint8_t>(c.key_id >> shift));
    }
    out.push_back(static_cast<std::uint8_t>(c.module_id.size()));
    out.insert(out.end(), c.module_id.begin(), c.module_id.end());
    out.push_back(static_cast<std::uint8_t>(c.attendee_id.size()));
    out.insert(out.end(), c.attendee_id.begin(), c.attendee_id.end());
    out.push_back(static_cast<std::uint8_t>(c.issue >> 8));
    out.push_back(static_cast<std::uint8_t>(c.issue & 0xFFU));
    return out;
}

std::vector<std::uint8_t> signed_message(std::span<const std::uint8_t> body)
{
    // Sized once and filled by copy: vector::insert here trips GCC 12's -Wstringop-overread
    // false positive at -O2.
    std::vector<std::uint8_t> message(kSigningContext.size() + body.size());
    auto next = std::copy(kSigningContext.begin(), kSigningContext.end(), message.begin());
    std::copy(body.begin(), body.end(), next);
    return message;
}

// --- parsing -------------------------------------------------------------------------------

// Reads forward through bytes; every read checks the remaining length first.
class ByteReader {
public:
    explicit ByteReader(std::span<const std::uint8_t> bytes) : bytes_(bytes) {}

    std::size_t offset() const { return offset_; }
    bool at_end() const { return offset_ == bytes_.size(); }

    std::optional<std::span<const std::uint8_t>> take(std::size_t n)
    {
        if (n > bytes_.size() - offset_) return std::nullopt;
        auto part = bytes_.subspan(offset_, n);
        offset_ += n;
        return part;
    }
    std::optional<std::uint32_t> take_uint(std::size_t n)  // big-endian, n <= 4
    {
        auto part = take(n);
        if (!part) return std::nullopt;
        std::uint32_t value = 0;
        for (std::uint8_t byte : *part) value = (value << 8) | byte;
        return value;
    }

private:
    std::span<const std::uint8_t> bytes_;
    std::size_t offset_ = 0;
};

struct Parsed {
    Credential credential;
    std::size_t body_length = 0;  // bytes covered by the signature
    std::span<const std::uint8_t> signature;
};

// Most refusals are misreads (a scanner, a crumpled badge): scanning again comes first.
const char* const kHint = "Scan the code again; if it still fails, ask the registration desk.";

Status invalid(std::string message)
{
    return Status::error(err::invalid_credential, std::move(message), kHint);
}

Status damaged() { return invalid("This code is not a valid badge: it is damaged or incomplete."); }

std::string_view trim(std::string_view text)
{
    constexpr std::string_view kSpace = " \t\r\n";
    const auto first = text.find_first_not_of(kSpace);
    if (first == std::string_view::npos) return {};
    return text.substr(first, text.find_last_not_of(kSpace) - first + 1);
}

// Base32's alphabet is case-insensitive and a scanner set to lower case (or Caps Lock on
// the kiosk) sends the printed code in lower case: letters are upper-cased before the
// strict decoding. The bytes, and so the signature, are the same either way.
std::string upper_ascii(std::string_view text)
{
    std::string out(text);
    for (char& c : out) {
        if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    }
    return out;
}

Result<std::vector<std::uint8_t>> decode_text(std::string_view qr_text)
{
    const std::string_view text = trim(qr_text);
    if (text.empty()) return invalid("The code is empty.");
    if (text.size() > kMaxTextLength) return invalid("This code is not a badge: it is too long.");
    auto bytes = base32_decode(upper_ascii(text));
    if (!bytes)
        return invalid("This code is not a badge: it contains characters a badge never has.");
    return std::move(*bytes);
}

// `bytes` must outlive the result (its signature points into them).
Result<Parsed> parse(std::span<const std::uint8_t> bytes)
{
    ByteReader in(bytes);
    Parsed p;
    const auto version = in.take_uint(1);
    if (!version) return damaged();
    if (*version != kVersion) {
        return invalid("This badge uses format version " + std::to_string(*version) +
                       ", which this device does not read.");
    }
    const auto key_id = in.take_uint(4);
    if (!key_id) return damaged();
    p.credential.key_id = *key_id;

    const auto module_length = in.take_uint(1);
    if (!module_length) return damaged();
    const auto module_id = in.take(*module_length);
    if (!module_id) return damaged();
    p.credential.module_id.assign(module_id->begin(), module_id->end());
    if (!valid_id(p.credential.module_id, kMaxModuleIdLength, is_module_id_char)) return damaged();

    const auto attendee_length = in.take_uint(1);
    if (!attendee_length) return damaged();
    const auto attendee_id = in.take(*attendee_length);
    if (!attendee_id) return damaged();
    p.credential.attendee_id.assign(attendee_id->begin(), attendee_id->end());
    if (!valid_id(p.credential.attendee_id, kMaxAttendeeIdLength, is_attendee_id_char)) {
        return damaged();
    }

    const auto issue = in.take_uint(2);
    if (!issue || *issue == 0) return damaged();
    p.credential.issue = static_cast<std::uint16_t>(*issue);
    p.body_length = in.offset();

    const auto signature = in.take(kSignatureLength);
    if (!signature || !in.at_end()) return damaged();
    p.signature = *signature;
    return p;
}

}  // namespace

// --- key ids -------------------------------------------------------------------------------

std::string key_id_hex(std::uint32_t key_id)
{
    constexpr char kDigits[] = "0123456789abcdef";
    std::string out(8, '0');
    for (int i = 7; i >= 0; --i, key_id >>= 4)
        out[static_cast<std::size_t>(i)] = kDigits[key_id & 15U];
    return out;
}

std::optional<std::uint32_t> parse_key_id_hex(std::string_view text)
{
    if (text.size() != 8) return std::nullopt;
    std::uint32_t value = 0;
    for (char c : text) {
        std::uint32_t digit = 0;
        if (c >= '0' && c <= '9') {
            digit = static_cast<std::uint32_t>(c - '0');
        } else if (c >= 'a' && c <= 'f') {
            digit = static_cast<std::uint32_t>(c - 'a' + 10);
        } else if (c >= 'A' && c <= 'F') {
            digit = static_cast<std::uint32_t>(c - 'A' + 10);
        } else {
            return std::nullopt;
        }
        value = (value << 4) | digit;
    }
    return value;
}

std::uint32_t derive_key_id(const PublicKey& public_key)
{
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int digest_length = 0;
    if (EVP_Digest(public_key.data(), public_key.size(), digest, &digest_length, EVP_sha256(),
                   nullptr) != 1 ||
        digest_length < 4) {
        throw_openssl("SHA-256 failed");
    }
    return (std::uint32_t{digest[0]} << 24) | (std::uint32_t{digest[1]} << 16) |
           (std::uint32_t{digest[2]} << 8) | std::uint32_t{digest[3]};
}

// --- SigningKey ----------------------------------------------------------------------------

// Never modified after construction, so copies of a SigningKey share it across threads.
struct SigningKey::Impl {
    PkeyPtr pkey;
};

SigningKey SigningKey::generate()
{
    PkeyCtxPtr ctx(EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, nullptr));
    EVP_PKEY* raw = nullptr;
    if (!ctx || EVP_PKEY_keygen_init(ctx.get()) != 1 || EVP_PKEY_keygen(ctx.get(), &raw) != 1) {
        throw_openssl("cannot generate an Ed25519 key");
    }
    SigningKey key;
    key.impl_ = std::make_shared<Impl>(Impl{PkeyPtr(raw)});
    key.key_id_ = derive_key_id(key.public_key());
    return key;
}

std::optional<SigningKey> SigningKey::from_pem(std::string_view pem)
{
    if (pem.empty() || pem.size() > static_cast<std::size_t>(INT_MAX)) return std::nullopt;
    BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    if (!bio) throw_openssl("cannot allocate a memory BIO");
    PkeyPtr pkey(PEM_read_bio_PrivateKey(bio.get(), nullptr, refuse_password, nullptr));
    if (!pkey || EVP_PKEY_get_id(pkey.get()) != EVP_PKEY_ED25519) {
        ERR_clear_error();
        return std::nullopt;
    }
    SigningKey key;
    key.impl_ = std::make_shared<Impl>(Impl{std::move(pkey)});
    key.key_id_ = derive_key_id(key.public_key());
    return key;
}

std::string SigningKey::to_pem() const
{
    if (!impl_) throw std::logic_error("SigningKey::to_pem on an empty key");
    BioPtr bio(BIO_new(BIO_s_mem()));
    if (!bio || PEM_write_bio_PrivateKey(bio.get(), impl_->pkey.get(), nullptr, nullptr, 0, nullptr,
                                         nullptr) != 1) {
        throw_openssl("cannot write the private key as PEM");
    }
    std::string pem;
    char chunk[512];
    int n = 0;
    while ((n = BIO_read(bio.get(), chunk, sizeof chunk)) > 0)
        pem.append(chunk, static_cast<std::size_t>(n));
    return pem;
}

PublicKey SigningKey::public_key() const
{
    if (!impl_) throw std::logic_error("SigningKey::public_key on an empty key");
    PublicKey out{};
    std::size_t length = out.size();
    if (EVP_PKEY_get_raw_public_key(impl_->pkey.get(), out.data(), &length) != 1 ||
        length != out.size()) {
        throw_openssl("cannot read the Ed25519 public key");
    }
    return out;
}

SigningKey SigningKey::with_key_id(std::uint32_t key_id) const
{
    SigningKey copy = *this;
    copy.key_id_ = key_id;
    return copy;
}

std::string SigningKey::issue(Credential credential) const
{
    if (!impl_) throw std::logic_error("SigningKey::issue on an empty key");
    if (!valid_id(credential.module_id, kMaxModuleIdLength, is_module_id_char)) {
        throw std::invalid_argument("credential module id \"" + credential.module_id +
                                    "\" must be 1 to 32 characters of a-z, 0-9 and '-'");
    }
    if (!valid_id(credential.attendee_id, kMaxAttendeeIdLength, is_attendee_id_char)) {
        throw std::invalid_argument("credential attendee id \"" + credential.attendee_id +
                                    "\" must be 1 to 64 characters of A-Z, a-z, 0-9, '.', '_' "
                                    "and '-'");
    }
    if (credential.issue == 0) throw std::invalid_argument("credential issue must be 1 or more");
    credential.key_id = key_id_;

    std::vector<std::uint8_t> bytes = encode_body(credential);
    const std::vector<std::uint8_t> message = signed_message(bytes);
    MdCtxPtr ctx(EVP_MD_CTX_new());
    std::uint8_t signature[kSignatureLength];
    std::size_t signature_length = sizeof signature;
    if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, impl_->pkey.get()) != 1 ||
        EVP_DigestSign(ctx.get(), signature, &signature_length, message.data(), message.size()) !=
            1 ||
        signature_length != kSignatureLength) {
        throw_openssl("cannot sign the credential");
    }
    bytes.insert(bytes.end(), signature, signature + kSignatureLength);
    return base32_encode(bytes);
}

// --- verification --------------------------------------------------------------------------

Result<Credential> decode_credential_unverified(std::string_view qr_text)
{
    auto bytes = decode_text(qr_text);
    if (!bytes) return bytes.status();
    auto parsed = parse(*bytes);
    if (!parsed) return parsed.status();
    return std::move(parsed->credential);
}

struct CredentialVerifier::Impl {
    TrustedKeys keys;
    std::map<std::uint32_t, PkeyPtr> pkeys;
    std::size_t cache_size = 0;
    mutable std::mutex mutex;
    mutable std::unordered_map<std::string, Credential> verified;  // by QR text
};

CredentialVerifier::CredentialVerifier(TrustedKeys keys, std::size_t cache_size)
    : impl_(std::make_unique<Impl>())
{
    for (const auto& [id, key] : keys) {
        PkeyPtr pkey = public_pkey(key);
        if (!pkey) throw_openssl("loading a trusted public key");
        impl_->pkeys.emplace(id, std::move(pkey));
    }
    impl_->keys = std::move(keys);
    impl_->cache_size = cache_size;
}

CredentialVerifier::~CredentialVerifier() = default;

const TrustedKeys& CredentialVerifier::keys() const { return impl_->keys; }

Result<Credential> CredentialVerifier::verify(std::string_view qr_text) const
{
    const bool cacheable = impl_->cache_size != 0 && qr_text.size() <= kMaxTextLength;
    if (cacheable) {
        std::lock_guard lock(impl_->mutex);
        if (auto hit = impl_->verified.find(std::string(qr_text)); hit != impl_->verified.end()) {
            return hit->second;
        }
    }
    auto bytes = decode_text(qr_text);
    if (!bytes) return bytes.status();
    auto parsed = parse(*bytes);
    if (!parsed) return parsed.status();

    const auto key = impl_->pkeys.find(parsed->credential.key_id);
    if (key == impl_->pkeys.end()) {
        return invalid("This code was not signed by a trusted key (key " +
                       key_id_hex(parsed->credential.key_id) + " is unknown to this device).");
    }
    const auto body = std::span<const std::uint8_t>(*bytes).first(parsed->body_length);
    if (!verify_ed25519(key->second.get(), signed_message(body), parsed->signature)) {
        return invalid("This code's signature does not match: the badge was altered or forged.");
    }
    if (cacheable) {
        std::lock_guard lock(impl_->mutex);
        // Full: start again rather than track ages; a module's badges refill it quickly.
        if (impl_->verified.size() >= impl_->cache_size) impl_->verified.clear();
        impl_->verified.emplace(std::string(qr_text), parsed->credential);
    }
    return std::move(parsed->credential);
}

Result<Credential> verify_credential(std::string_view qr_text, const TrustedKeys& keys)
{
    return CredentialVerifier(keys, 0).verify(qr_text);
}

}  // namespace ck

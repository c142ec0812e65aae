// Credential parsing and verification (core/credential.hpp): the QR text a badge or a
// phone screen sends, verified against one trusted key.
//
// Beyond memory safety it checks that the three entry points agree, that the verifier's
// memory answers as a fresh check does, and that whatever decodes can be signed again and
// then verifies to the same fields.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/credential.hpp"
#include "fuzz_check.hpp"

namespace {

// Fuzzing only: the seeds in corpus/credential are signed with it (key id 5e516f43).
constexpr std::string_view kFuzzKeyPem =
    "-----BEGIN PRIVATE KEY-----\n"
    "MC4CAQAwBQYDK2VwBCIEIH2hBzxMStQpZ2SgCuuaWU9CLOtL3oicPyuIHt2IkVjy\n"
    "-----END PRIVATE KEY-----\n";

struct Fixture {
    ck::SigningKey key = *ck::SigningKey::from_pem(kFuzzKeyPem);
    ck::TrustedKeys keys = {{key.key_id(), key.public_key()}};
    ck::CredentialVerifier verifier{keys, 64};  // small, so the memory also forgets
};

bool same(const ck::Credential& a, const ck::Credential& b)
{
    return a.key_id == b.key_id && a.module_id == b.module_id && a.attendee_id == b.attendee_id &&
           a.issue == b.issue;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    static const Fixture fixture;
    const std::string_view text(reinterpret_cast<const char*>(data), size);

    auto decoded = ck::decode_credential_unverified(text);
    auto verified = ck::verify_credential(text, fixture.keys);
    auto remembered = fixture.verifier.verify(text);
    auto again = fixture.verifier.verify(text);  // may come from the verifier's memory

    CK_FUZZ_CHECK(verified.is_ok() == remembered.is_ok() && remembered.is_ok() == again.is_ok());
    if (!verified.is_ok()) {
        CK_FUZZ_CHECK(verified.status().code() == "invalid_credential");
        CK_FUZZ_CHECK(remembered.status().code() == "invalid_credential");
    } else {
        CK_FUZZ_CHECK(decoded.is_ok());
        CK_FUZZ_CHECK(same(*verified, *decoded));
        CK_FUZZ_CHECK(same(*remembered, *decoded) && same(*again, *decoded));
    }
    if (decoded.is_ok()) {
        // A well-formed credential, whoever signed it: signed by the trusted key it must
        // verify, and read back field for field.
        const std::string issued = fixture.key.issue(*decoded);
        auto reissued = ck::verify_credential(issued, fixture.keys);
        CK_FUZZ_CHECK(reissued.is_ok());
        CK_FUZZ_CHECK(reissued->key_id == fixture.key.key_id());
        CK_FUZZ_CHECK(reissued->module_id == decoded->module_id);
        CK_FUZZ_CHECK(reissued->attendee_id == decoded->attendee_id);
        CK_FUZZ_CHECK(reissued->issue == decoded->issue);
        CK_FUZZ_CHECK(fixture.verifier.verify(issued).is_ok());
    }
    return 0;
}

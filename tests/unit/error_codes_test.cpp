#include "core/error_codes.hpp"

#include <doctest/doctest.h>

#include <set>
#include <string>

#include "core/status.hpp"

TEST_CASE("error codes: each named once, lower-case words, with an HTTP error status")
{
    std::set<std::string> seen;
    for (const ck::ErrorCode& code : ck::all_error_codes()) {
        CAPTURE(code.name());
        CHECK(seen.insert(std::string(code.name())).second);
        CHECK(code.name().find_first_not_of("abcdefghijklmnopqrstuvwxyz_") == std::string::npos);
        CHECK(code.http_status() >= 400);
        CHECK(code.http_status() < 600);
    }
    CHECK(seen.size() > 30);
}

TEST_CASE("a Status carries its code's name and HTTP status")
{
    const ck::Status revoked = ck::Status::error(ck::err::revoked, "replaced", "use the new one");
    CHECK_FALSE(revoked.is_ok());
    CHECK(revoked.code() == "revoked");
    CHECK(revoked.http_status() == 422);
    CHECK(ck::Status::error(ck::err::storage_full, "full").http_status() == 507);
    CHECK(ck::Status::ok().http_status() == 200);
    CHECK(ck::Status::ok().code().empty());
}

TEST_CASE("registry refusals are named after the registry's HTTP status")
{
    CHECK(ck::err::registry_refused(401).name() == "registry_401");
    CHECK(ck::err::registry_refused(503).name() == "registry_503");
    CHECK(ck::err::registry_refused(42).name() == "registry_0");  // not an HTTP status
    const ck::Status s = ck::Status::error(ck::err::registry_refused(403), "refused");
    CHECK(s.code() == "registry_403");
}

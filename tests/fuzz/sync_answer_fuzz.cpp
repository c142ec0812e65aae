// The registry's answers to the device's sync requests, other than the roster
// (registry_roster_fuzz.cpp): the acknowledgement of a batch of events
// (sync/outbox_relay.hpp parse_acked_through) and the Date header that may set an
// untrusted clock (sync/registry_client.hpp parse_http_date).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"
#include "sync/outbox_relay.hpp"
#include "sync/registry_client.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    (void)ck::parse_acked_through(text);
    // A header value holds no NUL (httplib cuts there).
    const std::string date(text.substr(0, text.find('\0')));
    if (auto t = ck::parse_http_date(date)) {
        // What the relay does with it: formatted for the audit log.
        CK_FUZZ_CHECK(!ck::format_rfc3339_utc(*t).empty());
    }
    return 0;
}

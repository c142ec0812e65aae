// The stable error codes (SPEC section 5): clients, scripts and tests rely on them, and
// each answers with one HTTP status. This table is the one place that says both; a Status
// is made from a named constant (`Status::error(err::revoked, ...)`), so a misspelt code
// does not compile.
//
// Adding a code: add a line here (name, HTTP status) and say in SPEC or the docs when
// clients should expect it.
#pragma once

#include <span>
#include <string_view>

namespace ck {

class ErrorCode {
public:
    constexpr ErrorCode(std::string_view name, int http_status)
        : name_(name), http_status_(http_status)
    {
    }
    constexpr std::string_view name() const { return name_; }
    constexpr int http_status() const { return http_status_; }

private:
    std::string_view name_;
    int http_status_;
};

#define CK_ERROR_CODES(X)                                                             \
    X(malformed_request, 400)                                                         \
    X(invalid_config, 400)                                                            \
    X(bad_roster, 400)                                                                \
    X(unauthenticated, 401)                                                           \
    X(bad_credentials, 401)                                                           \
    X(phone_not_identified, 401)                                                      \
    X(csrf_failed, 403)                                                               \
    X(forbidden, 403)                                                                 \
    X(device_not_allowed, 403)                                                        \
    X(module_not_allowed, 403)                                                        \
    X(invalid_token, 403)                                                             \
    X(token_expired, 403)                                                             \
    X(not_found, 404)                                                                 \
    X(unknown_module, 404)                                                            \
    X(method_not_allowed, 405)                                                        \
    X(request_timeout, 408)                                                           \
    X(no_open_session, 409)                                                           \
    X(session_not_started, 409)                                                       \
    X(already_voided, 409)                                                            \
    X(not_inside, 409)                                                                \
    X(not_presence_mode, 409)                                                         \
    X(attendee_exists, 409)                                                           \
    X(module_closed, 409)                                                             \
    X(gap, 409)                                                                       \
    X(seq_conflict, 409)                                                              \
    X(event_id_conflict, 409)                                                         \
    X(sync_not_configured, 409)                                                       \
    X(staff_exists, 409)                                                              \
    X(last_admin, 409)                                                                \
    X(own_account, 409)                                                               \
    X(payload_too_large, 413)                                                         \
    X(uri_too_long, 414)                                                              \
    X(unsupported_media_type, 415)                                                    \
    X(unsupported_encoding, 415)                                                      \
    X(identity_not_found, 422)                                                        \
    X(invalid_attendee, 422)                                                          \
    X(reason_required, 422)                                                           \
    X(weak_password, 422)                                                             \
    X(invalid_staff, 422)                                                             \
    X(invalid_credential, 422)                                                        \
    X(wrong_module, 422)                                                              \
    X(revoked, 422)                                                                   \
    X(rate_limited, 429)                                                              \
    X(headers_too_large, 431)                                                         \
    X(internal_error, 500)                                                            \
    X(storage_error, 500)                                                             \
    X(insecure_permissions, 500)                                                      \
    X(clock_not_trusted, 503)                                                         \
    X(server_busy, 503)                                                               \
    X(storage_unavailable, 503)                                                       \
    X(sync_unavailable, 503)                                                          \
    X(store_unreadable, 503)                                                          \
    X(store_too_new, 503)                                                             \
    X(storage_full, 507)                                                              \
    /* the sync relay's own failures: shown on the dashboard, never an HTTP answer */ \
    X(registry_unreachable, 503)                                                      \
    X(registry_bad_answer, 502)                                                       \
    X(registry_no_progress, 502)                                                      \
    X(registry_conflict, 502)                                                         \
    X(roster_unavailable, 502)

namespace err {
#define CK_DEFINE_ERROR_CODE(name, status) inline constexpr ErrorCode name{#name, status};
CK_ERROR_CODES(CK_DEFINE_ERROR_CODE)
#undef CK_DEFINE_ERROR_CODE

// The registry refused a request with HTTP `status` (400, 401, 403, 5xx...):
// "registry_<status>", e.g. registry_401 for a wrong device token (docs/sync.md).
ErrorCode registry_refused(int status);
}  // namespace err

// Every code of the table (registry_refused's excepted), for tests.
std::span<const ErrorCode> all_error_codes();

}  // namespace ck

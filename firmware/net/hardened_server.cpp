#include "net/hardened_server.hpp"

#include <strings.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <iterator>
#include <limits>
#include <optional>
#include <regex>
#include <vector>

#include "log/log.hpp"
#include "net/error.hpp"
#include "net/guarded_server.hpp"

namespace ck {
namespace {

// An IMF-fixdate (RFC 9110 section 5.6.7): "Sun, 06 Nov 1994 08:49:37 GMT".
std::string http_date(std::time_t when)
{
    static const char* const kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char* const kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    std::tm tm{};
    gmtime_r(&when, &tm);
    char text[32];
    std::snprintf(text, sizeof text, "%s, %02d %s %04d %02d:%02d:%02d GMT", kDays[tm.tm_wday],
                  tm.tm_mday, kMonths[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                  tm.tm_sec);
    return text;
}

// Headers every answer carries. Pages only talk to the server itself. API answers are
// never stored; pages and assets may be, but are revalidated at every use with the ETag
// handle_page sends (304 while unchanged).
void add_common_headers(const httplib::Request& req, httplib::Response& res)
{
    res.set_header("X-Content-Type-Options", "nosniff");
    res.set_header("Referrer-Policy", "no-referrer");
    if (req.path.rfind("/api/", 0) == 0 || req.path == "/healthz" || req.path == "/metrics") {
        res.set_header("Cache-Control", "no-store");
    } else {
        res.set_header("Content-Security-Policy",
                       "default-src 'self'; img-src 'self' data:; style-src 'self'; "
                       "frame-ancestors 'none'; base-uri 'none'; form-action 'self'");
        res.set_header("X-Frame-Options", "DENY");
        res.set_header("Cache-Control", "no-cache");
    }
    // httplib adds "Content-Length: 0" to every answer without a body; on a 304 that
    // would claim the file is empty (RFC 9110 section 8.6), so a 304 carries none.
    if (res.status == 304) res.headers.erase("Content-Length");
    // RFC 9110 section 6.6.1: a server with a clock dates every answer. A device estimates
    // its clock offset from the registry's (docs/sync.md section 6).
    if (!res.has_header("Date")) res.set_header("Date", http_date(std::time(nullptr)));
}

// Past the limit, up to this much more is read and thrown away so that the client gets a
// clean 413 on a connection that stays usable; beyond it, reading stops.
constexpr std::size_t kDiscardMax = 1 << 20;

// JSON deeper than any API body needs (a roster is three levels deep). nlohmann's parser
// keeps every level of a document: a 4 MiB roster of "[" took 330 MB before it was refused,
// one closed again 440 MB, where the service has MemoryMax=128M.
constexpr int kMaxJsonDepth = 32;

// The bytes of request bodies held in memory by all requests at once
// (ServerOptions::max_body_bytes_in_flight). A reservation gives its bytes back when the
// request's handler is done with the body.
class BodyBudget {
public:
    explicit BodyBudget(std::size_t limit) : limit_(limit) {}

    class Reservation {
    public:
        explicit Reservation(BodyBudget& budget) : budget_(budget) {}
        ~Reservation() { budget_.used_.fetch_sub(held_); }
        Reservation(const Reservation&) = delete;
        Reservation& operator=(const Reservation&) = delete;

        // False, taking nothing, when `bytes` more would go past the budget.
        bool take(std::size_t bytes)
        {
            std::size_t used = budget_.used_.load();
            do {
                if (bytes > budget_.limit_ - std::min(used, budget_.limit_)) return false;
            } while (!budget_.used_.compare_exchange_weak(used, used + bytes));
            held_ += bytes;
            return true;
        }

    private:
        BodyBudget& budget_;
        std::size_t held_ = 0;
    };

private:
    const std::size_t limit_;
    std::atomic<std::size_t> used_{0};
};

// Follows the nesting of a JSON text chunk by chunk, as it arrives (brackets in strings do
// not count).
class JsonNesting {
public:
    // False once the text nests deeper than kMaxJsonDepth.
    bool feed(const char* data, std::size_t length)
    {
        for (std::size_t i = 0; i < length; ++i) {
            const char ch = data[i];
            if (in_string_) {
                if (escaped_) {
                    escaped_ = false;
                } else if (ch == '\\') {
                    escaped_ = true;
                } else if (ch == '"') {
                    in_string_ = false;
                }
            } else if (ch == '"') {
                in_string_ = true;
            } else if (ch == '[' || ch == '{') {
                if (++depth_ > kMaxJsonDepth) return false;
            } else if ((ch == ']' || ch == '}') && depth_ > 0) {
                --depth_;
            }
        }
        return true;
    }

private:
    int depth_ = 0;
    bool in_string_ = false;
    bool escaped_ = false;
};

// Reads the body through `reader`, refusing more than `limit` bytes whatever the framing
// (cpp-httplib 0.11.4 applies its payload limit to Content-Length bodies only), and, unless
// it is text (a CSV roster), JSON nested deeper than kMaxJsonDepth. A body not read to its
// end closes the connection after the answer.
Status read_body(const httplib::ContentReader& reader, std::size_t limit, std::string& body,
                 httplib::Response& res, bool json, BodyBudget::Reservation& memory)
{
    bool too_large = false;
    bool too_deep = false;
    bool over_budget = false;
    std::size_t discarded = 0;
    JsonNesting nesting;
    bool complete = reader([&](const char* data, std::size_t length) {
        if (too_large || body.size() + length > limit) {
            too_large = true;
            discarded += length;
            return discarded <= kDiscardMax;
        }
        if (json && !nesting.feed(data, length)) {
            too_deep = true;
            return false;
        }
        if (!memory.take(length)) {
            over_budget = true;
            return false;
        }
        body.append(data, length);
        return true;
    });
    if (!complete) close_connection_after_answer(res);
    // httplib itself answers 413 for a Content-Length above set_payload_max_length.
    if (too_large || (!complete && res.status == 413)) {
        return Status::error(err::payload_too_large,
                             "The request body is larger than " + std::to_string(limit) + " bytes.",
                             "Send a smaller body.");
    }
    if (over_budget) {
        res.set_header("Retry-After", "5");
        return Status::error(err::server_busy, "The server is receiving too much at once.",
                             "Try again in a few seconds.");
    }
    if (too_deep) {
        return Status::error(
            err::malformed_request,
            "The JSON body nests deeper than " + std::to_string(kMaxJsonDepth) + " levels.",
            "Send the JSON the API describes.");
    }
    if (!complete) {
        return Status::error(err::malformed_request, "The request body could not be read.",
                             "Send a complete body with a correct length or chunked framing.");
    }
    return Status::ok();
}

// Paths longer than this are refused before routing: httplib matches the path against the
// route patterns with std::regex, which recurses once per character (about 600 bytes of a
// 512 KiB worker stack each, so a path of a thousand characters crashed the server). The
// longest real path is under 100 bytes.
constexpr std::size_t kMaxPathBytes = 256;

// A route that takes a body, as the guard below matches it (the same pattern httplib uses).
struct BodyRoute {
    std::string method;
    std::regex pattern;
    std::size_t max_body;
    std::function<Status(const httplib::Request&)> admit;
};

void refuse(httplib::Response& res, const Status& why)
{
    write_error(res, why);
    close_connection_after_answer(res);
}

// Content-Length as one decimal number; nullopt for anything else ("-1", "0x10", " 5", "").
// Too large a number reads as the largest: it is refused as too large, not as malformed.
std::optional<std::uint64_t> parse_content_length(const std::string& text)
{
    std::uint64_t value = 0;
    const char* end = text.data() + text.size();
    auto [ptr, ec] = std::from_chars(text.data(), end, value);
    if (text.empty() || text.front() == '-' || ptr != end) return std::nullopt;
    if (ec == std::errc::result_out_of_range) return std::numeric_limits<std::uint64_t>::max();
    if (ec != std::errc()) return std::nullopt;
    return value;
}

// The pre-routing handler: runs after the head is read and before httplib reads a body or
// matches a route, and answers what cpp-httplib 0.11.4 would mishandle from there on
// (SECURITY.md, "HTTP parsing: cpp-httplib 0.11.4"):
// - it takes Content-Length "-1" as 2^64-1, reads a body of any other transfer coding until
//   the connection closes, and reads the body of a POST/PUT/PATCH/DELETE/PRI to a path no
//   route takes into memory without any limit;
// - it parses a multipart/form-data body with a regex per part header, whatever handler
//   runs (a long part header crashed the server; a short one threw);
// - it skips a Content-Length above its payload limit by reading all of it first.
// It also refuses a Content-Encoding other than identity or gzip (httplib would decode
// deflate and brotli, and pass anything else on undecoded). And a route's `admit` runs
// here, from the head: a client it refuses (a staff route without a session, a device
// without its token) is answered before any body byte is read, so it cannot make the
// server hold uploads it would refuse anyway.
httplib::Server::HandlerResponse guard_request(const std::vector<BodyRoute>& routes,
                                               const httplib::Request& req, httplib::Response& res)
{
    using Answer = httplib::Server::HandlerResponse;
    if (req.path.size() > kMaxPathBytes) {
        refuse(res,
               Status::error(err::uri_too_long, "The address is too long.", "Check the address."));
        return Answer::Handled;
    }
    // One Content-Length of digits, or Transfer-Encoding: chunked alone.
    const std::size_t lengths = req.get_header_value_count("Content-Length");
    const std::size_t codings = req.get_header_value_count("Transfer-Encoding");
    const auto length = parse_content_length(req.get_header_value("Content-Length"));
    if (lengths > 1 || codings > 1 || (lengths == 1 && codings == 1) || (lengths == 1 && !length) ||
        (codings == 1 &&
         strcasecmp(req.get_header_value("Transfer-Encoding").c_str(), "chunked") != 0)) {
        refuse(res, Status::error(err::malformed_request, "The request body's length is not clear.",
                                  "Send one Content-Length, or Transfer-Encoding: chunked."));
        return Answer::Handled;
    }
    if (strncasecmp(req.get_header_value("Content-Type").c_str(), "multipart/", 10) == 0) {
        refuse(res,
               Status::error(err::unsupported_media_type, "Multipart bodies are not accepted here.",
                             "Send JSON, or CSV where the API takes it."));
        return Answer::Handled;
    }
    if (const std::string coding = req.get_header_value("Content-Encoding");
        !coding.empty() && strcasecmp(coding.c_str(), "identity") != 0 &&
        strcasecmp(coding.c_str(), "gzip") != 0) {
        refuse(res,
               Status::error(err::unsupported_encoding,
                             "The body's Content-Encoding \"" + coding + "\" is not accepted here.",
                             "Send the body as it is, or gzip it."));
        return Answer::Handled;
    }
    const bool has_body = codings == 1 || (lengths == 1 && *length > 0);
    static const char* const kBodyMethods[] = {"POST", "PUT", "PATCH", "DELETE", "PRI"};
    if (std::find(std::begin(kBodyMethods), std::end(kBodyMethods), req.method) ==
        std::end(kBodyMethods)) {
        // httplib does not read a body with these methods: close rather than take it for the
        // next request.
        if (has_body) close_connection_after_answer(res);
        return Answer::Unhandled;
    }
    auto route = std::find_if(routes.begin(), routes.end(), [&](const BodyRoute& r) {
        return r.method == req.method && std::regex_match(req.path, r.pattern);
    });
    if (route == routes.end()) {
        refuse(res, Status::error(err::not_found, "There is nothing at " + req.path + ".",
                                  "Check the address."));
        return Answer::Handled;
    }
    if (route->admit) {
        if (Status admitted = route->admit(req); !admitted) {
            refuse(res, admitted);
            return Answer::Handled;
        }
    }
    if (lengths == 1 && *length > route->max_body) {
        refuse(res, Status::error(err::payload_too_large,
                                  "The request body is larger than " +
                                      std::to_string(route->max_body) + " bytes.",
                                  "Send a smaller body."));
        return Answer::Handled;
    }
    return Answer::Unhandled;
}

}  // namespace

std::unique_ptr<httplib::Server> make_guarded_server(const std::vector<GuardedRoute>& routes,
                                                     std::size_t default_max_body,
                                                     const ServerOptions& options,
                                                     AnswerHook on_answer)
{
    auto server = std::make_unique<GuardedServer>(options.workers);
    httplib::Server& svr = *server;
    auto sent_limit = [default_max_body](const GuardedRoute& route) {
        return route.max_body != 0 ? route.max_body : default_max_body;
    };
    auto decoded_limit = [&sent_limit](const GuardedRoute& route) {
        return route.max_decoded_body != 0 ? route.max_decoded_body : sent_limit(route);
    };

    svr.set_tcp_nodelay(true);
    std::size_t largest = default_max_body;
    for (const auto& route : routes) largest = std::max(largest, sent_limit(route));
    svr.set_payload_max_length(largest);
    svr.set_keep_alive_timeout(options.keep_alive_seconds);
    svr.set_keep_alive_max_count(1000);
    svr.set_read_timeout(10);
    svr.set_write_timeout(10);

    std::vector<BodyRoute> body_routes;
    for (const auto& route : routes) {
        if (route.method == "GET") continue;
        body_routes.push_back(
            BodyRoute{route.method, std::regex(route.pattern), sent_limit(route), route.admit});
    }
    svr.set_pre_routing_handler([body_routes = std::move(body_routes)](const httplib::Request& req,
                                                                       httplib::Response& res) {
        return guard_request(body_routes, req, res);
    });
    auto budget = std::make_shared<BodyBudget>(options.max_body_bytes_in_flight);

    for (const auto& route : routes) {
        if (route.method == "GET") {
            svr.Get(route.pattern,
                    [handler = route.handler](const httplib::Request& req, httplib::Response& res) {
                        handler(req, res, req.body);
                    });
            continue;
        }
        auto handler = [handler = route.handler, plain = sent_limit(route),
                        decoded = decoded_limit(route),
                        budget](const httplib::Request& req, httplib::Response& res,
                                const httplib::ContentReader& reader) {
            BodyBudget::Reservation memory(*budget);  // declared first: released last
            std::string body;
            bool has_body = req.has_header("Content-Length") || req.has_header("Transfer-Encoding");
            bool json = req.get_header_value("Content-Type").rfind("text/", 0) != 0;
            bool gzip = strcasecmp(req.get_header_value("Content-Encoding").c_str(), "gzip") == 0;
            if (Status s = has_body
                               ? read_body(reader, gzip ? decoded : plain, body, res, json, memory)
                               : Status::ok();
                !s) {
                write_error(res, s);
                return;
            }
            handler(req, res, body);
        };
        if (route.method == "POST") svr.Post(route.pattern, handler);
        if (route.method == "PUT") svr.Put(route.pattern, handler);
        if (route.method == "DELETE") svr.Delete(route.pattern, handler);
    }

    // Runs for every answer, errors included (httplib calls it after the error handler).
    svr.set_post_routing_handler(
        [on_answer = std::move(on_answer)](const httplib::Request& req, httplib::Response& res) {
            add_common_headers(req, res);
            if (on_answer) on_answer(req, res);
        });
    // Statuses httplib sets by itself (404, 413 for a long Content-Length, 400...) get the
    // envelope too; answers that already have a body are left alone.
    svr.set_error_handler([](const httplib::Request& req, httplib::Response& res) {
        if (!res.body.empty()) return;
        switch (res.status) {
            case 404:
                write_error(res,
                            Status::error(err::not_found, "There is nothing at " + req.path + ".",
                                          "Check the address."));
                break;
            case 413:
                write_error(res,
                            Status::error(err::payload_too_large, "The request body is too large.",
                                          "Send a smaller body."));
                break;
            case 400:
                write_error(res, Status::error(err::malformed_request,
                                               "The request could not be understood.",
                                               "Send a well-formed HTTP request."));
                break;
            default:
                if (res.status >= 500) {
                    write_error(res, Status::error(err::internal_error, "The server failed.",
                                                   "Try again; if it persists, see the log."));
                } else {
                    write_error(res,
                                Status::error(err::malformed_request, "The request was refused.",
                                              "Check the request."));
                }
        }
    });
    // Never put exception text on the wire (0.11.4 would put it in a header).
    svr.set_exception_handler(
        [](const httplib::Request& req, httplib::Response& res, std::exception_ptr ep) {
            try {
                if (ep) std::rethrow_exception(ep);
            } catch (const std::exception& e) {
                CK_ERROR("http", req.method << " " << req.path << " failed: " << e.what());
            } catch (...) {
                CK_ERROR("http", req.method << " " << req.path << " failed");
            }
            res.headers.clear();
            write_error(res, Status::error(err::internal_error, "The server failed.",
                                           "Try again; if it persists, see the log."));
        });
    return server;
}

bool answers_healthz(const std::string& host, int port)
{
    std::string target = host;
    if (target == "0.0.0.0" || target.empty()) target = "127.0.0.1";
    if (target == "::") target = "::1";
    httplib::Client client(target, port);
    client.set_connection_timeout(5);
    client.set_read_timeout(5);
    auto res = client.Get("/healthz");
    return res && res->status == 200;
}

}  // namespace ck

// The HTTP layer in-process: handlers through the route table (parse, call the use case,
// answer with the right status and envelope), and the request guard of the real server on
// a loopback port (what cpp-httplib 0.11.4 would mishandle, SECURITY.md).
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cstdio>
#include <cstring>
#include <thread>
#include <vector>

#include "app/files.hpp"
#include "net/head_loop.hpp"
#include "net/worker_pool.hpp"
#include "test_device.hpp"

namespace {

using ck::test::TestDevice;
using ck::test::TestDeviceOptions;
using namespace std::chrono_literals;

std::string checkin_body(const std::string& credential)
{
    return nlohmann::json{{"credential", credential}}.dump();
}

// A new connection to the server on 127.0.0.1:`port`, whose reads give up after 10 s (a
// bound, not a measurement: the server answers at once).
int connect_loopback(int port)
{
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(fd >= 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    timeval timeout{10, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    return fd;
}

void send_all(int fd, const std::string& bytes)
{
    REQUIRE(::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL) ==
            static_cast<ssize_t>(bytes.size()));
}

// One answer's head and body (by its Content-Length) from a connection; "" when none.
std::string read_answer(int fd)
{
    std::string answer;
    char buffer[4096];
    for (;;) {
        const std::size_t head_end = answer.find("\r\n\r\n");
        if (head_end != std::string::npos) {
            const std::size_t length_at = answer.find("Content-Length: ");
            const std::size_t length =
                length_at < head_end ? std::stoul(answer.substr(length_at + 16)) : 0;
            if (answer.size() >= head_end + 4 + length) return answer;
        }
        const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
        if (n <= 0) return answer;
        answer.append(buffer, static_cast<std::size_t>(n));
    }
}

// Waits, a bounded while (20 s), until `ready` holds.
template <typename Ready>
bool eventually(Ready ready)
{
    const auto give_up = std::chrono::steady_clock::now() + 20s;
    while (!ready()) {
        if (std::chrono::steady_clock::now() > give_up) return false;
        std::this_thread::sleep_for(1ms);
    }
    return true;
}

// How many of `fds` answer their next request with 200 OK.
int answered_ok(const std::vector<int>& fds)
{
    int answered = 0;
    for (int fd : fds) answered += read_answer(fd).rfind("HTTP/1.1 200 OK\r\n", 0) == 0 ? 1 : 0;
    return answered;
}

// True once at least `n` connections wait in the event loop and no worker is busy.
bool waiting_without_threads(std::size_t n)
{
    return eventually([n] {
        auto loop = ck::HeadLoop::serving_counts();
        return loop && loop->waiting >= n && ck::WorkerPool::serving_counts()->busy == 0;
    });
}

// A badge check-in over a new connection (a bound of 10 s): its HTTP status, 0 for none.
int checkin_status(TestDevice& t, int port)
{
    httplib::Client client("127.0.0.1", port);
    client.set_read_timeout(10);
    auto answer =
        client.Post("/api/v1/checkins", checkin_body(t.credential("A001")), "application/json");
    return answer ? answer->status : 0;
}

// A server with few worker threads and a long keep-alive, for the event loop's tests.
int serve_with_threads(TestDevice& t, std::size_t threads)
{
    ck::ServerOptions options;
    options.workers = {.min_threads = 1,
                       .max_threads = threads,
                       .max_queue = threads,
                       .stack_bytes = 512 * 1024,
                       .idle_exit = 30s};
    options.keep_alive_seconds = 60;
    return t.serve(options);
}

// One raw request on a new connection; the answer's status line's code (0: none).
int raw_status(int port, const std::string& request)
{
    const int fd = connect_loopback(port);
    std::size_t sent = 0;
    while (sent < request.size()) {
        ssize_t n = ::send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
        if (n <= 0) break;  // the server may close before it has read everything
        sent += static_cast<std::size_t>(n);
    }
    std::string answer;
    char buffer[4096];
    for (;;) {
        ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
        if (n <= 0) break;
        answer.append(buffer, static_cast<std::size_t>(n));
        if (answer.find("\r\n") != std::string::npos) break;
    }
    ::close(fd);
    if (answer.rfind("HTTP/1.1 ", 0) != 0 || answer.size() < 12) return 0;
    return std::stoi(answer.substr(9, 3));
}

// The registration numbers GET /api/v1/attendees?q=QUERY lists, in its order, joined by
// spaces.
std::string search(TestDevice& t, const std::string& query)
{
    std::string path = "/api/v1/attendees?q=";
    for (unsigned char ch : query) {
        static const char hex[] = "0123456789ABCDEF";
        if (std::isalnum(ch) != 0) {
            path.push_back(static_cast<char>(ch));
        } else {
            path += {'%', hex[ch >> 4], hex[ch & 15]};
        }
    }
    auto answer = t.call("GET", path, "", "maria");
    REQUIRE(answer.status == 200);
    const nlohmann::json body = answer.json();
    CHECK(body["total"] == t.store().attendee_count());
    std::string ids;
    for (const auto& a : body["attendees"]) {
        ids += (ids.empty() ? "" : " ") + a["id"].get<std::string>();
    }
    return ids;
}

}  // namespace

TEST_CASE("POST /api/v1/checkins answers what the service decided")
{
    TestDevice t;
    const std::string badge = t.credential("A001");
    auto first = t.call("POST", "/api/v1/checkins", checkin_body(badge));
    CHECK(first.status == 201);
    auto body = first.json();
    CHECK(body["status"] == "checked_in");
    CHECK(body["attendee"]["display_name"] == "Anna K.");  // no more of a name in public
    CHECK(body["session"]["id"] == "d1-am");
    CHECK(body["checkin"]["local_time"] == "08:40");

    auto again = t.call("POST", "/api/v1/checkins", checkin_body("  " + badge + "\r\n"));
    CHECK(again.status == 200);
    CHECK(again.json()["status"] == "already_checked_in");
    CHECK(again.json()["checkin"]["id"] == body["checkin"]["id"]);

    struct Case {
        const char* name;
        std::string body;
        int status;
        const char* code;
    };
    const Case cases[] = {
        {"not JSON", "{", 400, "malformed_request"},
        {"not an object", "[]", 400, "malformed_request"},
        {"no credential", "{}", 400, "malformed_request"},
        {"an extra field", R"({"credential":"A","x":1})", 400, "malformed_request"},
        {"not a string", R"({"credential":7})", 400, "malformed_request"},
        {"too long", checkin_body(std::string(1025, 'A')), 400, "malformed_request"},
        {"not a badge", checkin_body("HELLO"), 422, "invalid_credential"},
    };
    for (const Case& c : cases) {
        CAPTURE(c.name);
        auto answer = t.call("POST", "/api/v1/checkins", c.body);
        CHECK(answer.status == c.status);
        CHECK(answer.code() == c.code);
        auto error = answer.json()["error"];
        CHECK_FALSE(error["message"].get<std::string>().empty());
        CHECK_FALSE(error["hint"].get<std::string>().empty());
    }
}

TEST_CASE("POST /api/v1/checkins: a held check-in is 202, refused guesses are rate-limited")
{
    TestDeviceOptions options;
    options.ntp = false;
    TestDevice t(std::move(options));
    auto held = t.call("POST", "/api/v1/checkins", checkin_body(t.credential("A002")));
    CHECK(held.status == 202);
    CHECK(held.json()["status"] == "held");
    CHECK(held.json()["attendee"]["display_name"] == "Lukas M.");

    // 120 attempts at once per client, refusals cost 5: a guesser is stopped after 24.
    int refused = 0;
    for (int i = 0; i < 40; ++i) {
        auto answer = t.call("POST", "/api/v1/checkins", checkin_body("GUESS" + std::to_string(i)),
                             "", {}, "192.0.2.66");
        if (answer.status == 429) {
            ++refused;
            CHECK(answer.code() == "rate_limited");
            CHECK(answer.headers.count("Retry-After") == 1);
        }
    }
    CHECK(refused >= 10);
    // Another client is not affected.
    auto other = t.call("POST", "/api/v1/checkins", checkin_body(t.credential("A003")), "", {},
                        "192.0.2.67");
    CHECK(other.status == 202);
}

TEST_CASE("GET /api/v1/attendees?q=: names found as people type them, numbers in any case")
{
    TestDevice t;
    const std::vector<ck::Attendee> more = {
        {"GR-7", "Παπαδόπουλος", "Γεώργιος", "", "GR"},
        {"BG-8", "Стоичков", "Христо", "", "BG"},
        {"IE-9", "O'Brien-Ó Briain", "Seán", "", "IE"},
        {"DE-10", "Mueller", "Jürgen", "", "DE"},
    };
    REQUIRE(t.store().import_roster(more).is_ok());
    struct Case {
        std::string query;
        std::string ids;  // in the list's order
    };
    const Case cases[] = {
        {"muller", "A002"},
        {"Müller", "A002 DE-10"},  // and the roster's Mueller, spelled without the letter
        {"mueller", "A002 DE-10"},
        {"MÜLL", "A002 DE-10"},
        {"chloe", "A003"},
        {"Chloé Dubois", "A003"},
        {"dubois chlo", "A003"},
        {"a002", "A002"},  // the registration number in any case
        {"de10", "DE-10"},
        {"papadopoulos", "GR-7"},
        {"georgios papad", "GR-7"},
        {"Hristo Stoichkov", "BG-8"},
        {"stoichkov", "BG-8"},
        {"obrien", "IE-9"},
        {"o'brien o briain", "IE-9"},
        {"sean", "IE-9"},
        {"juergen", "DE-10"},
        {"kowalski", ""},
        {"miller", ""},
        {"'", "A001 A002 A003 BG-8 DE-10 GR-7 IE-9"},  // nothing to search for: everyone
    };
    for (const Case& c : cases) {
        CAPTURE(c.query);
        CHECK(search(t, c.query) == c.ids);
    }

    // A renamed attendee is found by the new name, not the old one (the keys are kept
    // between searches).
    REQUIRE(t.store().import_roster({{"A002", "Schröder", "Lukas", "", "DE"}}).is_ok());
    CHECK(search(t, "müll") == "DE-10");
    CHECK(search(t, "schroeder") == "A002");
}

TEST_CASE("staff routes: manual check-in, void, attendee search, held, clock, sync")
{
    TestDevice t;
    // d1-pm has not started (08:40): nothing to check in to yet.
    CHECK(t.call("POST", "/api/v1/attendees/A002/checkins", R"({"session_id":"d1-pm"})", "maria")
              .code() == "session_not_started");
    auto manual =
        t.call("POST", "/api/v1/attendees/A002/checkins", R"({"session_id":"d1-am"})", "maria");
    CHECK(manual.status == 201);
    CHECK(manual.json()["checkin"]["staff"] == "maria");
    CHECK(manual.json()["checkin"]["source"] == "manual");
    CHECK(t.call("POST", "/api/v1/attendees/A002/checkins", R"({"session_id":"d9"})", "maria")
              .code() == "malformed_request");
    CHECK(t.call("POST", "/api/v1/attendees/NOBODY/checkins", "", "maria").status == 404);

    const std::string id = manual.json()["checkin"]["id"];
    CHECK(
        t.call("POST", "/api/v1/checkins/" + id + "/void", R"({"reason":"  "})", "maria").code() ==
        "malformed_request");
    auto voided =
        t.call("POST", "/api/v1/checkins/" + id + "/void", R"({"reason":"wrong person"})", "maria");
    CHECK(voided.status == 200);
    CHECK(voided.json()["checkin"]["voided"] == true);
    CHECK(voided.json()["checkin"]["void_reason"] == "wrong person");
    CHECK(t.call("POST", "/api/v1/checkins/" + id + "/void", R"({"reason":"again"})", "maria")
              .code() == "already_voided");

    // The search ignores case.
    REQUIRE(t.call("POST", "/api/v1/checkins", checkin_body(t.credential("A002"))).status == 201);
    auto found = t.call("GET", "/api/v1/attendees?q=LUKAS", "", "maria");
    CHECK(found.status == 200);
    REQUIRE(found.json()["attendees"].size() == 1);
    auto person = found.json()["attendees"][0];
    CHECK(person["id"] == "A002");
    CHECK(person["sessions_attended"] == 1);
    CHECK(person["checkins"]["d1-am"]["source"] == "badge");  // the one shape of a check-in
    CHECK(person["checkins"]["d1-am"]["attendee_id"] == "A002");
    CHECK(found.json()["total"] == 3);
    // Unchanged: 304 with the same tag.
    auto tag = found.headers.find("ETag");
    REQUIRE(tag != found.headers.end());
    CHECK(t.call("GET", "/api/v1/attendees?q=LUKAS", "", "maria", {{"If-None-Match", tag->second}})
              .status == 304);

    auto detail = t.call("GET", "/api/v1/attendees/A002", "", "maria");
    CHECK(detail.status == 200);
    CHECK(detail.json()["checkins"].size() == 2);
    CHECK(detail.json()["completion"]["sessions_attended"] == 1);

    auto sync = t.call("POST", "/api/v1/sync", "", "maria");
    CHECK(sync.status == 409);
    CHECK(sync.code() == "sync_not_configured");
    CHECK(t.call("GET", "/api/v1/sync", "", "maria").json()["pending"] == 3);

    CHECK(t.call("PUT", "/api/v1/clock", R"({"time":"1999-01-01T00:00:00Z"})", "maria").code() ==
          "malformed_request");
    t.time().ntp = false;  // NTP, while synchronised, wins over any correction
    auto clock = t.call("PUT", "/api/v1/clock", R"({"time":"2026-11-23T09:00:00+01:00"})", "maria");
    CHECK(clock.status == 200);
    CHECK(clock.json()["source"] == "staff");
    CHECK(clock.json()["time"] == "2026-11-23T09:00:00+01:00");
}

TEST_CASE("an untrusted clock: held is 202, a second scan 200 already_held; the display shows both")
{
    TestDeviceOptions options;
    options.ntp = false;
    TestDevice t(std::move(options));
    const std::string body = checkin_body(t.credential("A003"));
    auto first = t.call("POST", "/api/v1/checkins", body);
    CHECK(first.status == 202);
    CHECK(first.json()["status"] == "held");
    auto second = t.call("POST", "/api/v1/checkins", body);
    CHECK(second.status == 200);
    CHECK(second.json()["status"] == "already_held");
    CHECK(second.json()["attendee"]["display_name"] == "Chloé D.");
    CHECK(second.json()["message"].get<std::string>().find("Already recorded") == 0);
    auto display = t.call("GET", "/api/v1/display", "", "", {}, "127.0.0.1").json();
    REQUIRE(display["recent"].size() == 2);
    CHECK(display["recent"][0]["name"] == "Chloé D.");
    CHECK(display["recent"][0]["held"] == true);
    CHECK(display["recent"][0]["local_time"] == "08:40");
    auto summary = t.call("GET", "/api/v1/summary", "", "maria").json();
    CHECK(summary["clock"]["held"] == 2);
}

TEST_CASE("GET /metrics: the device's figures in Prometheus text format")
{
    TestDevice t;
    REQUIRE(t.call("POST", "/api/v1/checkins", checkin_body(t.credential("A001"))).status == 201);
    auto metrics = t.call("GET", "/metrics", "", "maria");
    CHECK(metrics.status == 200);
    const std::string& text = metrics.body;
    CHECK(
        text.find("# TYPE course_kiosk_checkins_total counter\ncourse_kiosk_checkins_total 1\n") !=
        std::string::npos);
    CHECK(text.find("course_kiosk_attendees 3\n") != std::string::npos);
    CHECK(text.find("course_kiosk_session_present{session=\"d1-am\"} 1\n") != std::string::npos);
    CHECK(text.find("course_kiosk_clock_trusted 1\n") != std::string::npos);
    CHECK(text.find("# TYPE course_kiosk_store_write_jobs_total counter\n") != std::string::npos);
    CHECK(text.find("# TYPE process_resident_memory_bytes gauge\n") != std::string::npos);
    CHECK(text.find("# TYPE process_cpu_seconds_total counter\n") != std::string::npos);
    CHECK(text.find("process_open_fds ") != std::string::npos);
    // Nothing was ever synced: that age is left out, and no figure is a -1 sentinel.
    CHECK(text.find("course_kiosk_sync_last_success_age_seconds") == std::string::npos);
    CHECK(text.find(" -1\n") == std::string::npos);
}

TEST_CASE(
    "the real server: /metrics takes the scrape token of metrics.token_file, nothing else does")
{
    char dir_template[] = "/tmp/ck-scrape-XXXXXX";
    REQUIRE(::mkdtemp(dir_template) != nullptr);
    const std::string token_file = std::string(dir_template) + "/metrics.token";
    const std::string token = "0123456789abcdef0123456789abcdef";
    REQUIRE(ck::write_file_atomic(token_file, token + "\n", 0600).is_ok());
    TestDeviceOptions options;
    options.config = {{"metrics", {{"token_file", token_file}}}};
    TestDevice t(std::move(options));
    const int port = t.serve();
    httplib::Client client("127.0.0.1", port);
    client.set_read_timeout(10);
    auto scrape = [&](const std::string& authorization) {
        httplib::Headers headers;
        if (!authorization.empty()) headers.emplace("Authorization", authorization);
        auto answer = client.Get("/metrics", headers);
        REQUIRE(answer);
        return answer->status;
    };
    CHECK(scrape("Bearer " + token) == 200);
    for (const std::string& wrong :
         {std::string(), std::string("Bearer"), "Bearer " + token.substr(1),
          "Bearer " + token + "0", "bearer " + token, "Basic " + token, token}) {
        CAPTURE(wrong);
        CHECK(scrape(wrong) == 401);
    }
    auto summary = client.Get("/api/v1/summary", {{"Authorization", "Bearer " + token}});
    REQUIRE(summary);
    CHECK(summary->status == 401);  // the token opens /metrics only
    std::remove(token_file.c_str());
    ::rmdir(dir_template);
}

TEST_CASE("the real server: staff routes need a session, the guard refuses what httplib would not")
{
    TestDevice t;
    t.add_staff("maria", "correct horse");
    const int port = t.serve();
    httplib::Client client("127.0.0.1", port);
    client.set_read_timeout(10);

    auto anonymous = client.Get("/api/v1/summary");
    REQUIRE(anonymous);
    CHECK(anonymous->status == 401);
    auto login =
        client.Post("/api/v1/session", R"({"username":"maria","password":"correct horse"})",
                    "application/json");
    REQUIRE(login);
    CHECK(login->status == 200);
    const std::string cookie = login->get_header_value("Set-Cookie");
    const std::string csrf = nlohmann::json::parse(login->body)["csrf_token"];
    httplib::Headers session = {{"Cookie", cookie.substr(0, cookie.find(';'))}};
    auto summary = client.Get("/api/v1/summary", session);
    REQUIRE(summary);
    CHECK(summary->status == 200);
    CHECK(summary->get_header_value("Cache-Control") == "no-store");
    auto no_csrf =
        client.Post("/api/v1/attendees/A001/checkins", session, "{}", "application/json");
    REQUIRE(no_csrf);
    CHECK(no_csrf->status == 403);
    session.emplace("X-CSRF-Token", csrf);
    auto with_csrf =
        client.Post("/api/v1/attendees/A001/checkins", session, "{}", "application/json");
    REQUIRE(with_csrf);
    CHECK(with_csrf->status == 201);

    struct Case {
        const char* name;
        std::string request;
        int status;
    };
    const std::string big(20000, 'x');
    const Case cases[] = {
        {"a path longer than any route",
         "GET /" + std::string(400, 'a') + " HTTP/1.1\r\nHost: x\r\n\r\n", 414},
        {"two Content-Lengths",
         "POST /api/v1/checkins HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: "
         "3\r\n\r\n{}",
         400},
        {"a negative Content-Length",
         "POST /api/v1/checkins HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n", 400},
        {"a body too large for the route",
         "POST /api/v1/checkins HTTP/1.1\r\nHost: x\r\nContent-Length: 20000\r\n\r\n" + big, 413},
        {"a chunked body too large for the route",
         "POST /api/v1/checkins HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n4e20\r\n" +
             big + "\r\n0\r\n\r\n",
         413},
        {"multipart",
         "POST /api/v1/checkins HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; "
         "boundary=b\r\nContent-Length: 2\r\n\r\n--",
         415},
        {"a body for a path no route takes",
         "POST /nowhere HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}", 404},
        {"whitespace before a header's colon", "GET /healthz HTTP/1.1\r\nHost : x\r\n\r\n", 400},
        {"a folded header line", "GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\n\r\n", 400},
        {"a header line without a colon", "GET /healthz HTTP/1.1\r\nHost: x\r\nX-A\r\n\r\n", 400},
        {"no Host in HTTP/1.1", "GET /healthz HTTP/1.1\r\nX-A: a\r\n\r\n", 400},
        {"two Hosts", "GET /healthz HTTP/1.1\r\nHost: x\r\nhost: y\r\n\r\n", 400},
        {"no Host in HTTP/1.0 is fine", "GET /healthz HTTP/1.0\r\n\r\n", 200},
        {"a Host and a Range are fine",
         "GET /healthz HTTP/1.1\r\nRange: bytes=0-1\r\nHost: x\r\n\r\n", 200},
        {"JSON nested deeper than any body needs",
         "POST /api/v1/checkins HTTP/1.1\r\nHost: x\r\nContent-Length: 200\r\n\r\n" +
             std::string(200, '['),
         400},
    };
    for (const Case& c : cases) {
        CAPTURE(c.name);
        CHECK(raw_status(port, c.request) == c.status);
    }
    // And the server still answers.
    auto health = client.Get("/healthz");
    REQUIRE(health);
    CHECK(health->status == 200);
}

// Issue 14, item 9: a staff route is authorised from the head. The requests below send a
// head announcing a 4 MiB roster and no body: an answer at all proves the server did not
// wait for the body (raw_status gives up after 10 s and returns 0).
TEST_CASE("the real server: a staff upload without a session is refused before its body")
{
    TestDevice t;
    t.add_staff("maria", "correct horse");
    const int port = t.serve();
    const std::string head =
        "POST /api/v1/roster HTTP/1.1\r\nHost: kiosk\r\n"
        "Content-Type: text/csv\r\nContent-Length: 4194304\r\n";
    CHECK(raw_status(port, head + "\r\n") == 401);
    CHECK(raw_status(port, head + "Cookie: ck_session=forged\r\n\r\n") == 401);

    httplib::Client client("127.0.0.1", port);
    auto login =
        client.Post("/api/v1/session", R"({"username":"maria","password":"correct horse"})",
                    "application/json");
    REQUIRE(login);
    REQUIRE(login->status == 200);
    const std::string set_cookie = login->get_header_value("Set-Cookie");
    const std::string cookie = "Cookie: " + set_cookie.substr(0, set_cookie.find(';')) + "\r\n";
    // A session without the CSRF token: refused from the head too.
    CHECK(raw_status(port, head + cookie + "\r\n") == 403);
}

// Bodies in flight share one budget (ServerOptions::max_body_bytes_in_flight): while one
// staff upload holds most of it, another that does not fit is refused with 503
// server_busy; once the first is done, the second goes through.
TEST_CASE("the real server: bodies in flight share one memory budget")
{
    TestDevice t;
    t.add_staff("maria", "correct horse");
    ck::ServerOptions options;
    options.max_body_bytes_in_flight = 64 * 1024;
    const int port = t.serve(options);
    httplib::Client client("127.0.0.1", port);
    client.set_read_timeout(10);
    auto login =
        client.Post("/api/v1/session", R"({"username":"maria","password":"correct horse"})",
                    "application/json");
    REQUIRE(login);
    REQUIRE(login->status == 200);
    const std::string set_cookie = login->get_header_value("Set-Cookie");
    const std::string csrf = nlohmann::json::parse(login->body)["csrf_token"];
    const httplib::Headers session = {{"Cookie", set_cookie.substr(0, set_cookie.find(';'))},
                                      {"X-CSRF-Token", csrf}};

    // The first upload: a head for 60,000 bytes and 50,000 of them, then it pauses.
    const std::string first =
        "POST /api/v1/roster HTTP/1.1\r\nHost: kiosk\r\n"
        "Content-Type: text/csv\r\nContent-Length: 60000\r\n"
        "Cookie: " +
        session.find("Cookie")->second + "\r\nX-CSRF-Token: " + csrf + "\r\n\r\n" +
        std::string(50000, 'x');
    auto start_first = [&] {
        const int fd = connect_loopback(port);
        send_all(fd, first);
        return fd;
    };
    int fd = start_first();

    // A second upload of 30,000 bytes does not fit beside it once the server has read the
    // first body's bytes. Whichever of the two the server reads first is the one that
    // fits: when a second upload got there first, the first is answered 503 itself and
    // is sent again. Bounded: at most 20 s.
    const std::string second(30000, 'y');
    bool refused = false;
    const auto give_up = std::chrono::steady_clock::now() + 20s;
    while (!refused && std::chrono::steady_clock::now() < give_up) {
        httplib::Client other("127.0.0.1", port);
        other.set_read_timeout(10);
        auto answer = other.Post("/api/v1/roster", session, second, "text/csv");
        REQUIRE(answer);
        refused = answer->status == 503;
        if (refused) {
            CHECK(nlohmann::json::parse(answer->body)["error"]["code"] == "server_busy");
            CHECK(answer->get_header_value("Retry-After") == "5");
        }
        pollfd answered{fd, POLLIN, 0};
        if (!refused && ::poll(&answered, 1, 0) == 1) {  // the first was refused instead
            ::close(fd);
            fd = start_first();
        }
    }
    CHECK(refused);

    // The first upload ends (a roster that is not CSV: 400); its bytes are given back.
    const std::string rest(10000, 'x');
    REQUIRE(::send(fd, rest.data(), rest.size(), MSG_NOSIGNAL) ==
            static_cast<ssize_t>(rest.size()));
    char buffer[512];
    CHECK(::recv(fd, buffer, sizeof buffer, 0) > 0);
    ::close(fd);
    auto after = client.Post("/api/v1/roster", session, second, "text/csv");
    REQUIRE(after);
    CHECK(after->status != 503);
}

// Issue 14, item 11: connections waiting for a request head (a slowloris trickling its
// headers, a kept-alive connection between requests) are watched by the event loop and
// hold no worker thread. With four threads, 300 slow clients do not keep a check-in out,
// and each of them is answered once its head is complete.
TEST_CASE("the real server: slow clients waiting for their heads hold no worker thread")
{
    TestDevice t;
    const int port = serve_with_threads(t, 4);

    std::vector<int> slow;
    for (int i = 0; i < 300; ++i) {
        slow.push_back(connect_loopback(port));
        send_all(slow.back(), "GET /healthz HTTP/1.1\r\nHost: kiosk\r\nX-Slow: ");
    }
    REQUIRE(eventually([] {
        auto loop = ck::HeadLoop::serving_counts();
        return loop && loop->waiting >= 300 && loop->buffered_bytes >= 300u * 44;
    }));
    CHECK(ck::WorkerPool::serving_counts()->busy == 0);
    // Before the loop, the check-in waited behind them past its 10 s bound.
    CHECK(checkin_status(t, port) == 201);

    for (int fd : slow) send_all(fd, "1\r\n\r\n");
    CHECK(answered_ok(slow) == 300);

    // Answered and kept alive, the connections wait in the loop again, not on a thread;
    // the next request on one of them is served.
    REQUIRE(waiting_without_threads(300));
    send_all(slow.front(), "GET /healthz HTTP/1.1\r\nHost: kiosk\r\n\r\n");
    CHECK(read_answer(slow.front()).rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
    for (int fd : slow) ::close(fd);
}

// A request with the start of the next one behind it, the rest of which never comes: the
// worker answers the first and gives the connection back to the event loop with what it
// read of the second, so these too hold no thread.
TEST_CASE("the real server: a half-sent next request waits in the event loop, not on a thread")
{
    TestDevice t;
    const int port = serve_with_threads(t, 2);
    std::vector<int> clients;
    for (int i = 0; i < 40; ++i) {
        clients.push_back(connect_loopback(port));
        send_all(clients.back(),
                 "GET /healthz HTTP/1.1\r\nHost: kiosk\r\n\r\nGET /healthz HTTP/1.1\r\nHo");
    }
    CHECK(answered_ok(clients) == 40);
    REQUIRE(waiting_without_threads(40));
    CHECK(checkin_status(t, port) == 201);
    for (int fd : clients) send_all(fd, "st: kiosk\r\n\r\n");
    CHECK(answered_ok(clients) == 40);
    for (int fd : clients) ::close(fd);
}

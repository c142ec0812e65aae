// Staff sign-in: the failure throttle (growing delays, never a lock the owner cannot pass
// from a client that has not been failing, the same answers for unknown and known names),
// failed logins in the audit log, a password reset ending the account's sessions, and
// logins and logouts racing on the real server.
#include <doctest/doctest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "http/staff_auth.hpp"
#include "net/failure_throttle.hpp"
#include "test_device.hpp"

namespace {

using ck::test::TestDevice;
using namespace std::chrono_literals;

const std::string kRight = "correct horse";

std::string login_body(const std::string& user, const std::string& password)
{
    return nlohmann::json{{"username", user}, {"password", password}}.dump();
}

TestDevice::Answer login(TestDevice& t, const std::string& user, const std::string& password,
                         const std::string& address)
{
    return t.call("POST", "/api/v1/session", login_body(user, password), "", {}, address);
}

// 192.0.2.<i>, then 198.51.100.<i>: a fresh address per attempt.
std::string address(int i)
{
    return (i < 250 ? "192.0.2." : "198.51.100.") + std::to_string(i % 250 + 1);
}

}  // namespace

TEST_CASE("FailureThrottle: free failures, then doubling delays up to the cap, forgotten later")
{
    ck::FailureThrottle throttle({.free_failures = 3,
                                  .first_delay_s = 2,
                                  .max_delay_s = 60,
                                  .forget_after_s = 3600,
                                  .max_keys = 100});
    const std::int64_t t0 = 1'800'000'000;
    for (int i = 0; i < 3; ++i) {
        throttle.failed("k", t0);
        CHECK(throttle.wait("k", t0) == 0);
    }
    struct Step {
        int failures;
        std::int64_t wait;
    };
    // The 4th failure waits 2 s, then 4, 8, 16, 32, and 60 from the 9th on.
    for (Step step : {Step{4, 2}, Step{5, 4}, Step{6, 8}, Step{7, 16}, Step{8, 32}, Step{9, 60},
                      Step{10, 60}, Step{40, 60}}) {
        CAPTURE(step.failures);
        while (throttle.failures("k", t0) < step.failures) throttle.failed("k", t0);
        CHECK(throttle.wait("k", t0) == step.wait);
        CHECK(throttle.wait("k", t0 + step.wait) == 0);
        CHECK(throttle.wait("other", t0) == 0);
    }
    // Forgotten an hour after the last failure; a success forgets at once.
    CHECK(throttle.failures("k", t0 + 3599) == 40);
    CHECK(throttle.failures("k", t0 + 3600) == 0);
    throttle.failed("k", t0 + 3600);
    CHECK(throttle.failures("k", t0 + 3600) == 1);
    throttle.succeeded("k");
    CHECK(throttle.failures("k", t0 + 3600) == 0);
}

TEST_CASE("FailureThrottle: memory stays bounded, waiting keys are kept over idle ones")
{
    ck::FailureThrottle throttle({.free_failures = 0,
                                  .first_delay_s = 600,
                                  .max_delay_s = 600,
                                  .forget_after_s = 3600,
                                  .max_keys = 50});
    const std::int64_t t0 = 1'800'000'000;
    throttle.failed("attacker", t0);
    for (int i = 0; i < 1000; ++i) throttle.failed("key " + std::to_string(i), t0 + 1 + i);
    // The oldest half went when the table was full, newest kept: the last key still waits.
    CHECK(throttle.wait("key 999", t0 + 1000) > 0);
    int kept = 0;
    for (int i = 0; i < 1000; ++i) kept += throttle.failures("key " + std::to_string(i), t0 + 1000);
    CHECK(kept <= 50);
    CHECK(kept >= 25);
}

TEST_CASE("login: a client that keeps failing waits longer each time; the owner elsewhere does not")
{
    TestDevice t;
    t.add_staff("maria", kRight);
    const std::string attacker = "203.0.113.9";

    SUBCASE("the failing client: 3 free failures, then 2 s, 4 s ...")
    {
        for (int i = 0; i < 4; ++i) {
            CAPTURE(i);
            CHECK(login(t, "maria", "wrong", attacker).code() == "bad_credentials");
        }
        auto refused = login(t, "maria", kRight, attacker);
        CHECK(refused.status == 429);
        CHECK(refused.code() == "rate_limited");
        CHECK(refused.headers.find("Set-Cookie") == refused.headers.end());
        CHECK(refused.headers.find("Retry-After")->second == "2");
        // Another client, the owner, logs in meanwhile.
        CHECK(login(t, "maria", kRight, "192.0.2.77").status == 200);
        t.time().pass(2s);
        CHECK(login(t, "maria", "wrong", attacker).code() == "bad_credentials");
        CHECK(login(t, "maria", kRight, attacker).headers.find("Retry-After")->second == "4");
        t.time().pass(4s);
        // A success clears that client's failures.
        CHECK(login(t, "maria", kRight, attacker).status == 200);
        CHECK(login(t, "maria", "wrong", attacker).code() == "bad_credentials");
        CHECK(login(t, "maria", kRight, attacker).status == 200);
    }
    SUBCASE("rotating addresses never keep the owner out")
    {
        // Two hundred guesses from two hundred addresses, then one every 15 minutes for a day.
        for (int i = 0; i < 200; ++i) login(t, "maria", "guess " + std::to_string(i), address(i));
        for (int i = 0; i < 96; ++i) {
            t.time().pass(15min);
            login(t, "maria", "slow guess", address(200 + i));
            CAPTURE(i);
            // (A new owner address each time: the per-address bucket of logins, which bounds
            // the scrypt work, is not what is tested here.)
            REQUIRE(login(t, "maria", kRight, "10.1.0." + std::to_string(i + 1)).status == 200);
        }
        // But a client that has failed on the account waits out the account's delay, even
        // with the right password (it may be the attacker who just guessed it).
        auto after_failing = login(t, "maria", kRight, address(200));
        CHECK(after_failing.status == 429);
        CHECK(std::stoi(after_failing.headers.find("Retry-After")->second) > 60);
    }
}

TEST_CASE("login: unknown and known user names get the same answers")
{
    TestDevice t;
    t.add_staff("maria", kRight);
    auto sequence = [&](const std::string& user, const std::string& from) {
        std::vector<std::pair<int, std::string>> answers;
        for (int i = 0; i < 8; ++i) {
            auto a = login(t, user, "wrong", from);
            auto retry = a.headers.find("Retry-After");
            answers.emplace_back(
                a.status,
                a.json().dump() + (retry == a.headers.end() ? std::string("-") : retry->second));
            if (a.status == 429) t.time().pass(std::chrono::seconds(std::stoi(retry->second)));
        }
        return answers;
    };
    auto known = sequence("maria", "203.0.113.50");
    auto unknown = sequence("nobody", "203.0.113.51");
    CHECK(known == unknown);
    CHECK(known[3].first == 401);
    CHECK(known[4].first == 429);
}

TEST_CASE("login: every failure is in the audit log, with the name typed and the client")
{
    TestDevice t;
    t.add_staff("maria", kRight);
    login(t, "maria", "wrong", "203.0.113.7");
    login(t, "mallory", "wrong", "203.0.113.8");
    REQUIRE(login(t, "maria", kRight, "192.0.2.1").status == 200);
    auto audit = t.call("GET", "/api/v1/audit", "", "maria").json();
    std::vector<nlohmann::json> failed;
    for (const auto& entry : audit["entries"]) {
        if (entry["action"] == "login_failed") failed.push_back(entry["details"]);
    }
    REQUIRE(failed.size() == 2);
    CHECK(failed[0]["username"] == "mallory");  // newest first
    CHECK(failed[0]["client"] == "203.0.113.8");
    CHECK(failed[0]["known"] == false);
    CHECK(failed[1]["username"] == "maria");
    CHECK(failed[1]["known"] == true);
}

TEST_CASE("a password reset ends the account's sessions, and only that account's")
{
    TestDevice t;
    t.add_staff("maria", kRight);
    t.add_staff("jonas", kRight);
    auto session_of = [&](const std::string& user) {
        auto answer = login(t, user, kRight, "192.0.2.1");
        REQUIRE(answer.status == 200);
        std::string cookie = answer.headers.find("Set-Cookie")->second;
        httplib::Request request;
        request.headers.emplace("Cookie", cookie.substr(0, cookie.find(';')));
        return request;
    };
    const httplib::Request maria_a = session_of("maria");
    const httplib::Request maria_b = session_of("maria");
    const httplib::Request jonas = session_of("jonas");
    REQUIRE(ck::find_staff_session(t.device(), maria_a));
    REQUIRE(ck::find_staff_session(t.device(), maria_b));

    t.add_staff("maria", "a new password");  // what `course-kiosk staff add` does for a reset
    CHECK_FALSE(ck::find_staff_session(t.device(), maria_a));
    CHECK_FALSE(ck::find_staff_session(t.device(), maria_b));
    CHECK(ck::find_staff_session(t.device(), jonas));
}

TEST_CASE("GET /api/v1/session whose session ended meanwhile is 401, not a crash")
{
    TestDevice t;
    t.add_staff("maria", kRight);
    // The route's access check passed (call() stands in for it); the cookie is gone by the
    // time the handler looks, as when a logout on another connection wins the race.
    auto answer = t.call("GET", "/api/v1/session", "", "maria");
    CHECK(answer.status == 401);
    CHECK(answer.code() == "unauthenticated");
}

TEST_CASE("the real server: concurrent logins, session reads and logouts answer 200 or 401")
{
    TestDevice t;
    t.add_staff("maria", kRight);
    const int port = t.serve();
    std::atomic<int> unexpected{0};
    std::atomic<int> logins{0};
    std::vector<std::thread> threads;
    for (int worker = 0; worker < 4; ++worker) {
        threads.emplace_back([&, worker] {
            httplib::Client client("127.0.0.1", port);
            client.set_read_timeout(10);
            for (int i = 0; i < 2; ++i) {  // 8 logins: within the per-address burst
                auto in =
                    client.Post("/api/v1/session", login_body("maria", kRight), "application/json");
                if (!in || in->status != 200) {
                    ++unexpected;
                    continue;
                }
                ++logins;
                std::string cookie = in->get_header_value("Set-Cookie");
                std::string csrf = nlohmann::json::parse(in->body)["csrf_token"];
                httplib::Headers session = {{"Cookie", cookie.substr(0, cookie.find(';'))},
                                            {"X-CSRF-Token", csrf}};
                // Read and end the session from two connections at once.
                std::thread reader([&] {
                    httplib::Client other("127.0.0.1", port);
                    other.set_read_timeout(10);
                    for (int k = 0; k < 10; ++k) {
                        auto read = other.Get("/api/v1/session", session);
                        if (!read || (read->status != 200 && read->status != 401)) ++unexpected;
                    }
                });
                auto out = client.Delete("/api/v1/session", session);
                if (!out || (out->status != 200 && out->status != 401)) ++unexpected;
                reader.join();
                (void)worker;
            }
        });
    }
    for (auto& thread : threads) thread.join();
    CHECK(unexpected.load() == 0);
    CHECK(logins.load() == 8);
}

// The event loop that reads request heads (http/head_loop.hpp), on socket pairs: what it
// hands to a worker, and what it answers itself.
#include "net/head_loop.hpp"

#include <doctest/doctest.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;

// What the loop handed over, as a worker would receive it.
struct Handed {
    int sock = -1;
    std::string bytes;
    std::size_t served = 0;
};

class Harness {
public:
    explicit Harness(ck::HeadLimits head = {}, ck::HeadLoopLimits limits = {})
        : loop_(head, limits, [this](int sock, std::string& bytes, std::size_t served) {
              std::lock_guard lock(mutex_);
              if (!accepting_) return false;
              handed_.push_back({sock, std::move(bytes), served});
              cv_.notify_all();
              return true;
          })
    {
    }
    ~Harness()
    {
        loop_.stop();
        for (const Handed& h : handed_) ::close(h.sock);
        for (int fd : keep_) ::close(fd);
        for (int fd : clients_) ::close(fd);
    }

    // A new connection in the loop, of which `bytes` were read already: the client's end.
    int connect(std::size_t served = 0, std::string bytes = {})
    {
        int fds[2];
        REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds) == 0);
        clients_.push_back(fds[0]);
        loop_.add(fds[1], served, std::move(bytes));
        return fds[0];
    }
    static void send(int fd, const std::string& bytes)
    {
        REQUIRE(::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL) ==
                static_cast<ssize_t>(bytes.size()));
    }
    // What the loop hands over next; a bound of 10 s, not a measurement.
    Handed next()
    {
        std::unique_lock lock(mutex_);
        REQUIRE(cv_.wait_for(lock, 10s, [this] { return !handed_.empty(); }));
        Handed h = handed_.front();
        handed_.erase(handed_.begin());
        keep_.push_back(h.sock);
        return h;
    }
    std::size_t handed_count()
    {
        std::lock_guard lock(mutex_);
        return handed_.size();
    }
    // As when every worker is busy and the pool's queue is full (false), or not.
    void accept_dispatch(bool accepting)
    {
        std::lock_guard lock(mutex_);
        accepting_ = accepting;
    }
    ck::HeadLoop& loop() { return loop_; }

    // Everything the client end receives until the loop closes its side (bounded: 10 s).
    static std::string read_to_end(int fd)
    {
        std::string out;
        char buffer[4096];
        for (;;) {
            pollfd p{fd, POLLIN, 0};
            REQUIRE(::poll(&p, 1, 10000) == 1);
            const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
            if (n <= 0) return out;
            out.append(buffer, static_cast<std::size_t>(n));
        }
    }

private:
    std::mutex mutex_;
    std::condition_variable cv_;
    std::vector<Handed> handed_;
    std::vector<int> clients_;
    std::vector<int> keep_;  // the loop's ends of the connections handed over
    bool accepting_ = true;
    ck::HeadLoop loop_;  // last: stopped before the rest goes
};

}  // namespace

TEST_CASE("the head loop hands a connection over once its head is complete, bytes intact")
{
    Harness h;
    const int client = h.connect(3);
    Harness::send(client, "GET /healthz HTTP/1.1\r\nHost: kiosk\r\n");
    Harness::send(client, "X-Part: 1\r");
    // Sent in pieces, a request pipelined behind it: nothing is handed over before the
    // empty line; then the whole head and what followed it, in order.
    Harness::send(client, "\n\r\nGET / HTTP/1.1\r\n");
    const Handed handed = h.next();
    CHECK(handed.bytes ==
          "GET /healthz HTTP/1.1\r\nHost: kiosk\r\nX-Part: 1\r\n\r\nGET / HTTP/1.1\r\n");
    CHECK(handed.served == 3);
    CHECK(h.handed_count() == 0);
}

TEST_CASE("a connection handed back with the start of its next head is served once it is whole")
{
    Harness h;
    // A worker read this much of the next request with the answer to the last one.
    const int partial = h.connect(7, "GET /next HTTP/1.1\r\nHo");
    Harness::send(partial, "st: kiosk\r\n\r\n");
    const Handed handed = h.next();
    CHECK(handed.bytes == "GET /next HTTP/1.1\r\nHost: kiosk\r\n\r\n");
    CHECK(handed.served == 7);
    // A whole head handed back is passed on at once.
    h.connect(8, "GET /whole HTTP/1.1\r\nHost: kiosk\r\n\r\n");
    CHECK(h.next().bytes.rfind("GET /whole ", 0) == 0);
}

TEST_CASE("a head past a limit is handed over at once, for the worker to refuse (414, 431)")
{
    ck::HeadLimits limits;
    limits.max_request_line = 100;
    limits.max_header_line = 200;
    limits.max_head_bytes = 1000;
    limits.max_header_lines = 5;
    Harness h(limits);

    const int long_line = h.connect();
    Harness::send(long_line, "GET /" + std::string(200, 'a'));
    CHECK(h.next().bytes.size() == 205);

    const int long_header = h.connect();
    Harness::send(long_header, "GET / HTTP/1.1\r\nX: " + std::string(300, 'b'));
    CHECK(h.next().bytes.size() == 319);

    const int many = h.connect();
    std::string lines = "GET / HTTP/1.1\r\n";
    for (int i = 0; i < 7; ++i) lines += "X-" + std::to_string(i) + ": 1\r\n";
    Harness::send(many, lines);
    CHECK(h.next().bytes == lines);

    // More than max_head_bytes: the loop stops reading one byte past it.
    const int big = h.connect();
    std::string head = "GET / HTTP/1.1\r\n";
    for (int i = 0; i < 5; ++i) {
        head += "X-" + std::to_string(i) + ": " + std::string(190, 'c') + "\r\n";
    }
    Harness::send(big, head + std::string(150, 'd'));
    CHECK(h.next().bytes.size() == 1001);
}

TEST_CASE("the head loop answers 408 when a head does not complete in time")
{
    ck::HeadLimits limits;
    limits.head_deadline = 50ms;
    Harness h(limits);
    const int client = h.connect();
    Harness::send(client, "GET /healthz HTTP/1.1\r\nHost: ki");
    const std::string answer = Harness::read_to_end(client);
    CHECK(answer.rfind("HTTP/1.1 408 Request Timeout\r\n", 0) == 0);
    CHECK(answer.find("\"code\":\"request_timeout\"") != std::string::npos);
    CHECK(answer.find("Connection: close\r\n") != std::string::npos);
    CHECK(h.handed_count() == 0);
    CHECK(h.loop().counts().timed_out == 1);
}

TEST_CASE("an idle connection is closed without an answer; one that hangs up is dropped")
{
    ck::HeadLoopLimits limits;
    limits.idle_timeout = 50ms;
    Harness h({}, limits);
    const int idle = h.connect();
    CHECK(Harness::read_to_end(idle).empty());

    ck::HeadLoopLimits forever;
    forever.idle_timeout = 1h;
    Harness g({}, forever);
    const int gone = g.connect();
    Harness::send(gone, "GET / HT");
    ::shutdown(gone, SHUT_WR);
    CHECK(Harness::read_to_end(gone).empty());
    CHECK(g.handed_count() == 0);
}

TEST_CASE("heads share one byte budget; past it, 503")
{
    ck::HeadLoopLimits limits;
    limits.max_buffered_bytes = 100;
    Harness h({}, limits);
    const int first = h.connect();
    Harness::send(first, "GET / HTTP/1.1\r\nX-A: " + std::string(50, 'a'));
    const int second = h.connect();
    Harness::send(second, "GET / HTTP/1.1\r\nX-B: " + std::string(50, 'b'));
    // Whichever the loop read second went past the budget: it is answered 503.
    pollfd p[2] = {{first, POLLIN, 0}, {second, POLLIN, 0}};
    REQUIRE(::poll(p, 2, 10000) >= 1);
    const int refused = (p[0].revents & POLLIN) != 0 ? first : second;
    const std::string answer = Harness::read_to_end(refused);
    CHECK(answer.rfind("HTTP/1.1 503 Service Unavailable\r\n", 0) == 0);
    CHECK(answer.find("Retry-After: 5\r\n") != std::string::npos);
    CHECK(answer.find("\"code\":\"server_busy\"") != std::string::npos);
    // The budget is given back: the other one completes and is handed over.
    Harness::send(refused == first ? second : first, "\r\n\r\n");
    CHECK(h.next().bytes.find("\r\n\r\n") != std::string::npos);
}

TEST_CASE("with every worker busy, complete heads wait in line; too long, and it is 503")
{
    Harness h;
    h.accept_dispatch(false);
    const int first = h.connect();
    Harness::send(first, "GET /1 HTTP/1.1\r\nHost: kiosk\r\n\r\n");
    const int second = h.connect();
    Harness::send(second, "GET /2 HTTP/1.1\r\nHost: kiosk\r\n\r\n");
    // Bounded wait until both are in line (not a timing assertion).
    for (int i = 0; i < 10000 && h.loop().counts().ready < 2; ++i) {
        std::this_thread::sleep_for(1ms);
    }
    REQUIRE(h.loop().counts().ready == 2);
    CHECK(h.handed_count() == 0);
    // A worker finishes: the loop hands over the heads in the order they came.
    h.accept_dispatch(true);
    h.loop().wake();
    CHECK(h.next().bytes.rfind("GET /1 ", 0) == 0);
    CHECK(h.next().bytes.rfind("GET /2 ", 0) == 0);

    ck::HeadLimits limits;
    limits.head_deadline = 50ms;
    Harness busy(limits);
    busy.accept_dispatch(false);
    const int client = busy.connect();
    Harness::send(client, "GET / HTTP/1.1\r\nHost: kiosk\r\n\r\n");
    const std::string answer = Harness::read_to_end(client);
    CHECK(answer.rfind("HTTP/1.1 503 Service Unavailable\r\n", 0) == 0);
    CHECK(answer.find("\"code\":\"server_busy\"") != std::string::npos);
    CHECK(busy.loop().counts().refused_busy == 1);
    CHECK(busy.handed_count() == 0);
}

TEST_CASE("a stopped loop closes what it holds and what it is given")
{
    Harness h;
    const int waiting = h.connect();
    Harness::send(waiting, "GET / HTTP/1.1\r\n");
    h.loop().stop();
    CHECK(Harness::read_to_end(waiting).empty());
    const int late = h.connect();
    CHECK(Harness::read_to_end(late).empty());
    CHECK(h.loop().counts().waiting == 0);
}

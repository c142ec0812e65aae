#include "net/head_loop.hpp"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <deque>
#include <mutex>
#include <set>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/status.hpp"
#include "log/log.hpp"
#include "net/error.hpp"

namespace ck {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// A refused connection's answer is sent, then what the client still sends is read and
// dropped for at most this long (and this much) before the connection is closed.
constexpr milliseconds kRefusedDrainTime{2000};
constexpr std::size_t kRefusedDrainBytes = 1u << 20;
constexpr std::size_t kReadChunk = 4096;

const char* reason_phrase(int status)
{
    switch (status) {
        case 408:
            return "Request Timeout";
        case 414:
            return "URI Too Long";
        case 431:
            return "Request Header Fields Too Large";
        case 503:
            return "Service Unavailable";
        default:
            return "Bad Request";
    }
}

std::mutex serving_loop_mutex;
const HeadLoop* serving_loop = nullptr;  // with serving_loop_mutex held

}  // namespace

bool HeadScan::feed(std::string_view bytes)
{
    for (const char ch : bytes) {
        if (ready_) break;
        ++bytes_;
        if (ch == '\n') {
            const bool blank = line_bytes_ == 1 && last_ == '\r';
            ready_ = blank || ++lines_ > limits_->max_header_lines + 1;
            line_bytes_ = 0;
        } else {
            ++line_bytes_;
            ready_ =
                line_bytes_ > (lines_ == 0 ? limits_->max_request_line : limits_->max_header_line);
        }
        last_ = ch;
        ready_ = ready_ || bytes_ > limits_->max_head_bytes;
    }
    return ready_;
}

std::string refusal_answer(const ErrorCode& code, const std::string& message,
                           const std::string& hint)
{
    httplib::Response res;
    write_error(res, Status::error(code, message, hint));
    std::string answer = "HTTP/1.1 " + std::to_string(res.status) + " " +
                         reason_phrase(res.status) +
                         "\r\nContent-Type: " + res.get_header_value("Content-Type") +
                         "\r\nContent-Length: " + std::to_string(res.body.size()) +
                         "\r\nCache-Control: no-store\r\nX-Content-Type-Options: nosniff"
                         "\r\nReferrer-Policy: no-referrer\r\nConnection: close\r\n";
    if (res.status == 503) answer += "Retry-After: 5\r\n";
    return answer + "\r\n" + res.body;
}

struct HeadLoop::Impl {
    enum class Phase {
        idle,      // between requests: nothing of the next head yet
        head,      // the head is arriving
        ready,     // the head has arrived: waiting for a worker (not read meanwhile)
        draining,  // refused: dropping what the client still sends
    };

    struct Connection {
        explicit Connection(const HeadLimits& limits) : scan(limits) {}
        Phase phase = Phase::idle;
        std::size_t served = 0;
        std::string bytes;
        Clock::time_point deadline{};
        HeadScan scan;
        std::size_t drained = 0;
    };

    Impl(const HeadLimits& head_limits, const HeadLoopLimits& loop_limits, Dispatch give)
        : head(head_limits), limits(loop_limits), dispatch(std::move(give))
    {
    }

    void run();
    void take_inbox(bool& stop);
    void watch(socket_t sock, std::size_t served, std::string bytes);
    void readable(socket_t sock);
    void read_head(socket_t sock, Connection& c);
    void hand_over(socket_t sock, Connection& c);  // to a worker, or in line for one
    void dispatch_ready();                         // the ones in line, in order
    void refuse_busy(socket_t sock, Connection& c);
    void expire();
    void refuse(socket_t sock, Connection& c, const ErrorCode& code, const std::string& message,
                const std::string& hint);
    void set_deadline(socket_t sock, Connection& c, Clock::time_point deadline);
    void forget(socket_t sock, Connection& c);  // no longer watched, and bytes released
    void close_connection(socket_t sock);
    void publish();

    const HeadLimits head;
    const HeadLoopLimits limits;
    const Dispatch dispatch;
    int epoll_fd = -1;
    int wake_fd = -1;
    std::thread thread;

    std::mutex mutex;
    struct Arrival {
        socket_t sock;
        std::size_t served;
        std::string bytes;
    };
    std::vector<Arrival> inbox;        // with mutex held
    bool stopping = false;             // with mutex held
    std::atomic<std::size_t> held{0};  // connections in the inbox or the loop

    // The loop's thread only.
    std::unordered_map<socket_t, Connection> connections;
    std::set<std::pair<Clock::time_point, socket_t>> deadlines;
    std::size_t buffered = 0;
    std::size_t draining = 0;
    std::deque<socket_t> ready;  // in Phase::ready, first come first served

    // For counts(), from any thread.
    std::atomic<std::size_t> waiting_now{0};
    std::atomic<std::size_t> ready_now{0};
    std::atomic<std::size_t> draining_now{0};
    std::atomic<std::size_t> buffered_now{0};
    std::atomic<std::size_t> timed_out{0};
    std::atomic<std::size_t> refused_busy{0};
};

HeadLoop::HeadLoop(const HeadLimits& head, const HeadLoopLimits& limits, Dispatch dispatch)
    : impl_(std::make_unique<Impl>(head, limits, std::move(dispatch)))
{
    impl_->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    impl_->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (impl_->epoll_fd < 0 || impl_->wake_fd < 0) {
        if (impl_->epoll_fd >= 0) ::close(impl_->epoll_fd);
        if (impl_->wake_fd >= 0) ::close(impl_->wake_fd);
        throw std::runtime_error("http: cannot create the event loop");
    }
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = impl_->wake_fd;
    epoll_ctl(impl_->epoll_fd, EPOLL_CTL_ADD, impl_->wake_fd, &ev);
    impl_->thread = std::thread([impl = impl_.get()] { impl->run(); });
    std::lock_guard lock(serving_loop_mutex);
    serving_loop = this;
}

HeadLoop::~HeadLoop()
{
    {
        std::lock_guard lock(serving_loop_mutex);
        if (serving_loop == this) serving_loop = nullptr;
    }
    stop();
    ::close(impl_->epoll_fd);
    ::close(impl_->wake_fd);
}

void HeadLoop::add(socket_t sock, std::size_t served, std::string bytes)
{
    bool taken = false;
    {
        std::lock_guard lock(impl_->mutex);
        if (!impl_->stopping && impl_->held.load() < impl_->limits.max_connections) {
            impl_->inbox.push_back({sock, served, std::move(bytes)});
            ++impl_->held;
            taken = true;
        }
    }
    if (!taken) {
        ::close(sock);
        return;
    }
    const std::uint64_t one = 1;
    [[maybe_unused]] const ssize_t n = ::write(impl_->wake_fd, &one, sizeof(one));
}

void HeadLoop::wake()
{
    const std::uint64_t one = 1;
    [[maybe_unused]] const ssize_t n = ::write(impl_->wake_fd, &one, sizeof(one));
}

void HeadLoop::stop()
{
    {
        std::lock_guard lock(impl_->mutex);
        impl_->stopping = true;
    }
    const std::uint64_t one = 1;
    [[maybe_unused]] const ssize_t n = ::write(impl_->wake_fd, &one, sizeof(one));
    if (impl_->thread.joinable()) impl_->thread.join();
}

HeadLoop::Counts HeadLoop::counts() const
{
    return Counts{impl_->waiting_now.load(),  impl_->ready_now.load(), impl_->draining_now.load(),
                  impl_->buffered_now.load(), impl_->timed_out.load(), impl_->refused_busy.load()};
}

std::optional<HeadLoop::Counts> HeadLoop::serving_counts()
{
    std::lock_guard lock(serving_loop_mutex);
    if (serving_loop == nullptr) return std::nullopt;
    return serving_loop->counts();
}

void HeadLoop::Impl::run()
{
    std::array<epoll_event, 256> events{};
    for (bool stop = false; !stop;) {
        int timeout = -1;
        if (!deadlines.empty()) {
            const auto left =
                std::chrono::ceil<milliseconds>(deadlines.begin()->first - Clock::now());
            timeout = static_cast<int>(std::max<milliseconds::rep>(0, left.count()));
        }
        const int n = epoll_wait(epoll_fd, events.data(), static_cast<int>(events.size()), timeout);
        if (n < 0 && errno != EINTR) {
            CK_ERROR("http", "the event loop failed: " << std::strerror(errno));
            break;
        }
        for (int i = 0; i < n; ++i) {
            if (events[i].data.fd == wake_fd) {
                take_inbox(stop);
            } else {
                readable(events[i].data.fd);
            }
        }
        expire();
        dispatch_ready();
        publish();
    }
    for (auto& [sock, c] : connections) {
        ::close(sock);
        --held;
    }
    connections.clear();
    deadlines.clear();
    std::lock_guard lock(mutex);
    for (const Arrival& a : inbox) ::close(a.sock);
    held -= inbox.size();
    inbox.clear();
    ready.clear();
    waiting_now = ready_now = draining_now = buffered_now = 0;
}

void HeadLoop::Impl::take_inbox(bool& stop)
{
    std::uint64_t count = 0;
    [[maybe_unused]] const ssize_t n = ::read(wake_fd, &count, sizeof(count));
    std::vector<Arrival> arrived;
    {
        std::lock_guard lock(mutex);
        stop = stopping;
        arrived.swap(inbox);
    }
    for (Arrival& a : arrived) watch(a.sock, a.served, std::move(a.bytes));
}

void HeadLoop::Impl::watch(socket_t sock, std::size_t served, std::string bytes)
{
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLRDHUP;
    ev.data.fd = sock;
    if (epoll_ctl(epoll_fd, EPOLL_CTL_ADD, sock, &ev) != 0) {
        ::close(sock);
        --held;
        return;
    }
    Connection& c = connections.try_emplace(sock, head).first->second;
    c.served = served;
    if (bytes.empty()) {
        set_deadline(sock, c, Clock::now() + limits.idle_timeout);
        return;
    }
    // The start of the next head, read by the worker that served the last request.
    c.phase = Phase::head;
    buffered += bytes.size();
    c.bytes = std::move(bytes);
    set_deadline(sock, c, Clock::now() + head.head_deadline);
    if (c.scan.feed(c.bytes) || c.bytes.size() > head.max_head_bytes) hand_over(sock, c);
}

void HeadLoop::Impl::readable(socket_t sock)
{
    auto it = connections.find(sock);
    if (it == connections.end()) return;
    Connection& c = it->second;
    if (c.phase != Phase::draining) {
        read_head(sock, c);
        return;
    }
    std::array<char, kReadChunk> scratch{};
    for (;;) {
        const ssize_t n = ::recv(sock, scratch.data(), scratch.size(), MSG_DONTWAIT);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
        if (n <= 0 || (c.drained += static_cast<std::size_t>(n)) > kRefusedDrainBytes) break;
    }
    close_connection(sock);
}

void HeadLoop::Impl::read_head(socket_t sock, Connection& c)
{
    // The worker reads past max_head_bytes itself (and refuses): one more byte tells it.
    const std::size_t cap = head.max_head_bytes + 1;
    for (;;) {
        const std::size_t old = c.bytes.size();
        const std::size_t chunk = std::min(kReadChunk, cap - old);
        c.bytes.resize(old + chunk);
        const ssize_t n = ::recv(sock, c.bytes.data() + old, chunk, MSG_DONTWAIT);
        c.bytes.resize(old + static_cast<std::size_t>(std::max<ssize_t>(n, 0)));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
        if (n <= 0) {  // the client has gone (or closed its side before finishing)
            close_connection(sock);
            return;
        }
        buffered += static_cast<std::size_t>(n);
        if (c.phase == Phase::idle) {
            c.phase = Phase::head;
            set_deadline(sock, c, Clock::now() + head.head_deadline);
        }
        if (buffered > limits.max_buffered_bytes) {
            refuse_busy(sock, c);
            return;
        }
        if (c.scan.feed(std::string_view(c.bytes).substr(old)) || c.bytes.size() >= cap) {
            hand_over(sock, c);
            return;
        }
    }
}

void HeadLoop::Impl::hand_over(socket_t sock, Connection& c)
{
    epoll_ctl(epoll_fd, EPOLL_CTL_DEL, sock, nullptr);  // before a worker can hand it back
    c.phase = Phase::ready;
    // Waiting for a worker is bounded too: past the head deadline, 503.
    set_deadline(sock, c, Clock::now() + head.head_deadline);
    ready.push_back(sock);
    dispatch_ready();
}

void HeadLoop::Impl::dispatch_ready()
{
    while (!ready.empty()) {
        const socket_t sock = ready.front();
        Connection& c = connections.at(sock);
        const std::size_t size = c.bytes.size();
        if (!dispatch(sock, c.bytes, c.served)) return;  // a worker's end wakes the loop
        ready.pop_front();
        deadlines.erase({c.deadline, sock});
        buffered -= size;
        connections.erase(sock);
        --held;
    }
}

void HeadLoop::Impl::refuse_busy(socket_t sock, Connection& c)
{
    ++refused_busy;
    refuse(sock, c, err::server_busy, "The device is busy.", "Try again in a moment.");
}

void HeadLoop::Impl::expire()
{
    const auto now = Clock::now();
    while (!deadlines.empty() && deadlines.begin()->first <= now) {
        const socket_t sock = deadlines.begin()->second;
        Connection& c = connections.at(sock);
        switch (c.phase) {
            case Phase::idle:
            case Phase::draining:
                close_connection(sock);
                break;
            case Phase::head:
                ++timed_out;
                refuse(sock, c, err::request_timeout, "The request did not arrive in time.",
                       "Send the whole request at once.");
                break;
            case Phase::ready: {  // no worker came in time: answered, and read again to drain
                ready.erase(std::find(ready.begin(), ready.end(), sock));
                epoll_event ev{};
                ev.events = EPOLLIN | EPOLLRDHUP;
                ev.data.fd = sock;
                if (epoll_ctl(epoll_fd, EPOLL_CTL_ADD, sock, &ev) != 0) {
                    close_connection(sock);
                } else {
                    refuse_busy(sock, c);
                }
                break;
            }
        }
    }
}

void HeadLoop::Impl::refuse(socket_t sock, Connection& c, const ErrorCode& code,
                            const std::string& message, const std::string& hint)
{
    const std::string answer = refusal_answer(code, message, hint);
    // A few hundred bytes into an empty send buffer: one send, never waiting for it.
    [[maybe_unused]] const ssize_t n =
        ::send(sock, answer.data(), answer.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
    ::shutdown(sock, SHUT_WR);
    buffered -= c.bytes.size();
    std::string().swap(c.bytes);
    c.phase = Phase::draining;
    ++draining;
    set_deadline(sock, c, Clock::now() + kRefusedDrainTime);
}

void HeadLoop::Impl::set_deadline(socket_t sock, Connection& c, Clock::time_point deadline)
{
    deadlines.erase({c.deadline, sock});
    c.deadline = deadline;
    deadlines.emplace(deadline, sock);
}

void HeadLoop::Impl::forget(socket_t sock, Connection& c)
{
    deadlines.erase({c.deadline, sock});
    epoll_ctl(epoll_fd, EPOLL_CTL_DEL, sock, nullptr);
    if (c.phase == Phase::draining) --draining;
}

void HeadLoop::Impl::close_connection(socket_t sock)
{
    auto it = connections.find(sock);
    if (it == connections.end()) return;
    forget(sock, it->second);
    buffered -= it->second.bytes.size();
    connections.erase(it);
    ::close(sock);
    --held;
}

void HeadLoop::Impl::publish()
{
    waiting_now = connections.size() - draining - ready.size();
    ready_now = ready.size();
    draining_now = draining;
    buffered_now = buffered;
}

}  // namespace ck

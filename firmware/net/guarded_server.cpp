#include "net/guarded_server.hpp"

#include <netdb.h>
#include <poll.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "net/error.hpp"

namespace ck {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

thread_local bool t_close_after_answer = false;

// After refusing a request, what the client still sends (the body of an upload that is too
// large, say) is read and dropped until it has been quiet for kDrainIdle, for at most
// kDrainTime and kDrainBytes, before closing: closing with unread bytes would send a reset
// that can discard the answer before the client reads it.
constexpr milliseconds kDrainIdle{1000};
constexpr milliseconds kDrainTime{10000};
constexpr std::size_t kDrainBytes = 16 << 20;

// After an answer, a worker waits this long for the connection's next request before
// handing it back to the event loop: a client that sends it at once (a browser fetching a
// page's files, a kiosk's burst of scans, a load test) is served without the hand-over.
constexpr milliseconds kNextRequestWait{2};

// Waits up to `timeout` for `events`; true when the socket is ready (or failed: the next
// recv/send reports it).
bool wait_for(socket_t sock, short events, milliseconds timeout)
{
    const auto deadline = Clock::now() + timeout;
    pollfd pfd{sock, events, 0};
    for (;;) {
        const auto left = std::chrono::ceil<milliseconds>(deadline - Clock::now());
        const int rc =
            ::poll(&pfd, 1, static_cast<int>(std::max<milliseconds::rep>(0, left.count())));
        if (rc > 0) return true;
        if (rc == 0 || errno != EINTR) return false;
    }
}

milliseconds to_ms(time_t sec, time_t usec)
{
    return milliseconds(static_cast<milliseconds::rep>(sec) * 1000 + usec / 1000);
}

// As httplib does: the numeric address and the port.
void ip_and_port(const sockaddr_storage& addr, socklen_t length, std::string& ip, int& port)
{
    if (addr.ss_family == AF_INET) {
        port = ntohs(reinterpret_cast<const sockaddr_in&>(addr).sin_port);
    } else if (addr.ss_family == AF_INET6) {
        port = ntohs(reinterpret_cast<const sockaddr_in6&>(addr).sin6_port);
    } else {
        return;
    }
    std::array<char, NI_MAXHOST> host{};
    if (getnameinfo(reinterpret_cast<const sockaddr*>(&addr), length, host.data(),
                    static_cast<socklen_t>(host.size()), nullptr, 0, NI_NUMERICHOST) == 0) {
        ip = host.data();
    }
}

// A socket stream for httplib that keeps its read buffer across the requests of a
// connection and applies HeadLimits to each request's head (see the header).
class GuardedStream final : public httplib::Stream {
public:
    // `bytes`: what the event loop has read of the connection already.
    GuardedStream(socket_t sock, const HeadLimits& limits, milliseconds read_timeout,
                  milliseconds write_timeout, const std::string& bytes)
        : sock_(sock),
          limits_(limits),
          read_timeout_(read_timeout),
          write_timeout_(write_timeout),
          buffer_(std::max<std::size_t>(16 * 1024, bytes.size())),  // on the heap: worker
          end_(bytes.size())                                        // stacks are small
    {
        std::memcpy(buffer_.data(), bytes.data(), bytes.size());
    }

    // The next bytes start a request: its head is read under the limits.
    void begin_request()
    {
        in_head_ = true;
        deadline_ = Clock::now() + limits_.head_deadline;
        head_bytes_ = line_bytes_ = lines_ = body_line_bytes_ = hosts_ = 0;
        skipping_line_ = colon_seen_ = false;
        version_tail_.clear();
    }
    bool has_buffered() const { return begin_ < end_; }
    // True when the bytes buffered hold a whole request head (or more than the limits
    // allow, which the head's reading refuses).
    bool head_ready() const
    {
        HeadScan scan(limits_);
        return scan.feed(std::string_view(buffer_.data() + begin_, end_ - begin_));
    }
    // Reads what the client has sent already, without waiting, up to one byte past the
    // head limit: the next request's head, when it came at once.
    void read_available()
    {
        while (end_ - begin_ <= limits_.max_head_bytes) {
            if (begin_ == end_) begin_ = end_ = 0;
            if (end_ == buffer_.size()) {
                std::memmove(buffer_.data(), buffer_.data() + begin_, end_ - begin_);
                end_ -= begin_;
                begin_ = 0;
            }
            const std::size_t room =
                std::min(buffer_.size() - end_, limits_.max_head_bytes + 1 - (end_ - begin_));
            const ssize_t n = ::recv(sock_, buffer_.data() + end_, room, MSG_DONTWAIT);
            if (n > 0) {
                end_ += static_cast<std::size_t>(n);
            } else if (n == 0 || errno != EINTR) {
                return;
            }
        }
    }
    // The bytes buffered, handed over to the event loop with the connection.
    std::string take_buffered()
    {
        std::string bytes(buffer_.data() + begin_, end_ - begin_);
        begin_ = end_ = 0;
        return bytes;
    }
    // True when the connection must end after this request: the stream answered it itself,
    // or its body could not be read to the end.
    bool spoiled() const { return refused_ || body_failed_; }

    bool is_readable() const override
    {
        return has_buffered() || wait_for(sock_, POLLIN, read_timeout_);
    }
    bool is_writable() const override
    {
        return !closed_ && wait_for(sock_, POLLOUT, write_timeout_);
    }

    ssize_t read(char* ptr, std::size_t size) override
    {
        if (closed_ || body_failed_) return -1;
        if (size == 0) return 0;
        // httplib reads a head one byte at a time; a body in blocks.
        if (in_head_) return read_head(*ptr);
        if (!has_buffered()) {
            if (ssize_t n = fill(read_timeout_); n <= 0) return n;
        }
        const std::size_t n = std::min(size, end_ - begin_);
        // Lines in a body (chunk sizes, the trailer) are read one byte at a time too, into
        // a buffer without limit; data comes in blocks. A run of single bytes longer than a
        // header line is a chunk-size line no client needs: the body fails to read.
        if (size == 1 && buffer_[begin_] != '\n') {
            if (++body_line_bytes_ > limits_.max_header_line) {
                body_failed_ = true;
                return -1;
            }
        } else {
            body_line_bytes_ = 0;
        }
        std::memcpy(ptr, buffer_.data() + begin_, n);
        begin_ += n;
        return static_cast<ssize_t>(n);
    }

    ssize_t write(const char* ptr, std::size_t size) override
    {
        if (closed_ || !wait_for(sock_, POLLOUT, write_timeout_)) return -1;
        for (;;) {
            const ssize_t n = ::send(sock_, ptr, size, MSG_NOSIGNAL);
            if (n >= 0 || errno != EINTR) return n;
        }
    }

    void get_remote_ip_and_port(std::string& ip, int& port) const override
    {
        sockaddr_storage addr{};
        socklen_t length = sizeof(addr);
        if (getpeername(sock_, reinterpret_cast<sockaddr*>(&addr), &length) == 0) {
            ip_and_port(addr, length, ip, port);
        }
    }
    void get_local_ip_and_port(std::string& ip, int& port) const override
    {
        sockaddr_storage addr{};
        socklen_t length = sizeof(addr);
        if (getsockname(sock_, reinterpret_cast<sockaddr*>(&addr), &length) == 0) {
            ip_and_port(addr, length, ip, port);
        }
    }
    socket_t socket() const override { return sock_; }

private:
    // Reads more into the buffer: the byte count, 0 at end of stream, -1 on error or timeout.
    ssize_t fill(milliseconds timeout)
    {
        if (begin_ == end_) begin_ = end_ = 0;
        if (end_ == buffer_.size()) {
            std::memmove(buffer_.data(), buffer_.data() + begin_, end_ - begin_);
            end_ -= begin_;
            begin_ = 0;
        }
        if (!wait_for(sock_, POLLIN, timeout)) return -1;
        for (;;) {
            const ssize_t n = ::recv(sock_, buffer_.data() + end_, buffer_.size() - end_, 0);
            if (n > 0) end_ += static_cast<std::size_t>(n);
            if (n >= 0 || errno != EINTR) return n;
        }
    }

    // fill() within the head's deadline; past it, the request is refused with 408.
    ssize_t fill_head()
    {
        // Rounded up, so that a wait the deadline cut short ends past it.
        const auto left = std::chrono::ceil<milliseconds>(deadline_ - Clock::now());
        const ssize_t n = fill(std::clamp(left, milliseconds(0), read_timeout_));
        if (n < 0 && Clock::now() >= deadline_) {
            refuse(err::request_timeout, "The request did not arrive in time.",
                   "Send the whole request at once.");
        }
        return n;
    }

    // A header line is starting: looks at its name (its first six bytes, or fewer when the
    // line is shorter) to drop Range lines and count Host lines. Sets `status` to what
    // fill_head() returned when the stream ends first.
    void header_line_starts(ssize_t& status)
    {
        static constexpr std::string_view kRange = "range:";
        static constexpr std::string_view kHost = "host:";
        static constexpr std::string_view kAcceptEncoding = "accept-encoding:";
        while (end_ - begin_ < kAcceptEncoding.size()) {
            if (std::memchr(buffer_.data() + begin_, '\n', end_ - begin_) != nullptr) break;
            if (status = fill_head(); status <= 0) return;
        }
        const std::size_t have = end_ - begin_;
        const char* name = buffer_.data() + begin_;
        skipping_line_ =
            have >= kRange.size() && strncasecmp(name, kRange.data(), kRange.size()) == 0;
        if (have >= kHost.size() && strncasecmp(name, kHost.data(), kHost.size()) == 0) ++hosts_;
        if (have >= kAcceptEncoding.size() &&
            strncasecmp(name, kAcceptEncoding.data(), kAcceptEncoding.size()) == 0) {
            refuse_brotli(status);
        }
    }

    // An Accept-Encoding line is starting: once it is all buffered (it is no longer than a
    // header line may be), "br" in it becomes "xx", so that httplib answers with gzip or
    // nothing. Its brotli runs at quality 11: about 1 MB/s of a core, and tens of MB of
    // encoder state per answer (four exports and a badge sheet took the server past 2 GB).
    void refuse_brotli(ssize_t& status)
    {
        const auto line_end = [this] {
            return static_cast<char*>(std::memchr(buffer_.data() + begin_, '\n', end_ - begin_));
        };
        while (line_end() == nullptr && end_ - begin_ <= limits_.max_header_line &&
               end_ - begin_ + 1 < buffer_.size()) {
            if (status = fill_head(); status <= 0) return;
        }
        char* last = line_end();
        if (last == nullptr) return;  // too long: refused as it is read
        for (char* p = buffer_.data() + begin_; p + 1 < last; ++p) {
            if ((p[0] == 'b' || p[0] == 'B') && (p[1] == 'r' || p[1] == 'R')) p[0] = p[1] = 'x';
        }
    }

    // RFC 9112 5.1-5.2 and 3.2: no whitespace before a header's colon, no line folding
    // (obs-fold), a colon in every header line, and exactly one Host in an HTTP/1.1
    // request. httplib accepts all of these and would read them differently than a proxy in
    // front of it. True when `ch` (the line's `line_bytes_`-th byte, 0-based) is refused.
    bool refuses_syntax(char ch, bool blank_line)
    {
        if (lines_ == 0) {  // the request line: remember how it ends (its version)
            if (ch == '\r' || ch == '\n') return false;
            if (version_tail_.size() == 8) version_tail_.erase(0, 1);
            version_tail_ += ch;
            return false;
        }
        const char* problem = nullptr;
        if (line_bytes_ == 0 && (ch == ' ' || ch == '\t')) {
            problem = "A header line continues the one before it (line folding).";
        } else if (!colon_seen_ && ch == ':') {
            colon_seen_ = true;
        } else if (!colon_seen_ && (ch == ' ' || ch == '\t')) {
            problem = "A header name is followed by whitespace before its colon.";
        } else if (!colon_seen_ && ch == '\n' && !blank_line) {
            problem = "A header line has no colon.";
        } else if (blank_line && hosts_ > 1) {
            problem = "The request has more than one Host header.";
        } else if (blank_line && hosts_ == 0 && version_tail_ != "HTTP/1.0") {
            problem = "The request has no Host header.";
        }
        if (problem == nullptr) return false;
        refuse(err::malformed_request, problem, "Send a well-formed HTTP/1.1 request.");
        return true;
    }

    // One byte of the head for httplib, after the limits; drops Range lines whole.
    ssize_t read_head(char& out)
    {
        for (;;) {
            if (line_bytes_ == 0 && lines_ > 0) {
                ssize_t status = 1;
                header_line_starts(status);
                if (status <= 0) return status;
                colon_seen_ = false;
            }
            if (!has_buffered()) {
                if (ssize_t n = fill_head(); n <= 0) return n;
            }
            const char ch = buffer_[begin_++];
            const bool blank_line = ch == '\n' && line_bytes_ == 1 && last_ == '\r';
            if (refuses_syntax(ch, blank_line)) return -1;
            last_ = ch;
            ++line_bytes_;
            ++head_bytes_;
            if (lines_ == 0 && line_bytes_ > limits_.max_request_line) {
                refuse(err::uri_too_long, "The request line is too long.",
                       "Use a shorter address.");
                return -1;
            }
            // lines_ counts the request line, so lines_ is this header line's number.
            const bool one_too_many =
                ch == '\n' && !blank_line && lines_ > limits_.max_header_lines;
            if (line_bytes_ > limits_.max_header_line || head_bytes_ > limits_.max_head_bytes ||
                one_too_many) {
                refuse(err::headers_too_large, "The request headers are too large.",
                       "Send fewer, shorter headers.");
                return -1;
            }
            const bool skipped = skipping_line_;
            if (ch == '\n') {
                // httplib ends a head at an empty line ending in CRLF, and only there.
                if (blank_line && lines_ > 0) in_head_ = false;
                ++lines_;
                line_bytes_ = 0;
                skipping_line_ = false;
            }
            if (!skipped) {
                out = ch;
                return 1;
            }
        }
    }

    // Answers with the error envelope of `code` and stops the connection.
    void refuse(const ErrorCode& code, const std::string& message, const std::string& hint)
    {
        const std::string answer = refusal_answer(code, message, hint);
        for (std::size_t sent = 0; sent < answer.size();) {
            const ssize_t n = write(answer.data() + sent, answer.size() - sent);
            if (n <= 0) break;
            sent += static_cast<std::size_t>(n);
        }
        refused_ = closed_ = true;
    }

    const socket_t sock_;
    const HeadLimits limits_;
    const milliseconds read_timeout_;
    const milliseconds write_timeout_;
    std::vector<char> buffer_;
    std::size_t begin_ = 0;
    std::size_t end_ = 0;
    bool in_head_ = false;
    Clock::time_point deadline_{};
    std::size_t head_bytes_ = 0;
    std::size_t line_bytes_ = 0;
    std::size_t lines_ = 0;  // completed lines of the head, the request line included
    bool skipping_line_ = false;
    bool colon_seen_ = false;   // in the current header line
    int hosts_ = 0;             // Host header lines so far
    std::string version_tail_;  // the request line's last 8 bytes: "HTTP/1.1"
    char last_ = 0;
    std::size_t body_line_bytes_ = 0;
    bool body_failed_ = false;
    bool refused_ = false;
    bool closed_ = false;
};

// Stops sending, then reads and drops what the client still sends (see kDrainIdle), until
// `stopping` says the server is shutting down.
void drain(socket_t sock, const std::function<bool()>& stopping)
{
    ::shutdown(sock, SHUT_WR);
    const auto deadline = Clock::now() + kDrainTime;
    std::array<char, 4096> scratch{};
    for (std::size_t dropped = 0;
         dropped < kDrainBytes && Clock::now() < deadline && !stopping();) {
        if (!wait_for(sock, POLLIN, kDrainIdle)) break;
        const ssize_t n = ::recv(sock, scratch.data(), scratch.size(), 0);
        if (n == 0 || (n < 0 && errno != EINTR)) break;
        if (n > 0) dropped += static_cast<std::size_t>(n);
    }
}

}  // namespace

void close_connection_after_answer(httplib::Response& res)
{
    res.set_header("Connection", "close");
    t_close_after_answer = true;
}

// httplib's task queue for the accepted connections: the event loop, which the accepting
// thread hands each connection to at once, and the worker threads it passes heads to.
class GuardedServer::Connections final : public httplib::TaskQueue {
public:
    explicit Connections(GuardedServer& server)
        : server_(server),
          pool_(server.workers_),
          loop_(server.limits_, loop_limits(server),
                [this](socket_t sock, std::string& bytes, std::size_t served) {
                    return dispatch(sock, bytes, served);
                })
    {
        // httplib listens with a backlog of 5: a burst of clients connecting at once (a
        // class arriving, or a flood) waits in SYN retries of 1, 2, 4... seconds. Listening
        // again on the bound socket raises it (the kernel caps it at net.core.somaxconn).
        ::listen(server_.svr_sock_, SOMAXCONN);
        server_.connections_ = this;
    }
    ~Connections() override
    {
        shutdown();
        server_.connections_ = nullptr;
    }

    HeadLoop& loop() { return loop_; }

    // httplib's accepting thread: process_and_close_socket, which only hands over.
    void enqueue(std::function<void()> fn) override { fn(); }
    // The listening socket is closed: no more connections come; the waiting ones are closed,
    // the workers finish what they serve (they see the server stopping between requests).
    void shutdown() override
    {
        loop_.stop();
        pool_.shutdown();
    }

private:
    // A connection for a worker: the head's bytes travel with it.
    struct Job {
        GuardedServer* server;
        socket_t sock;
        std::string bytes;
        std::size_t served;
        void operator()() { server->serve(sock, std::move(bytes), served); }
    };

    // The loop's Dispatch: the bytes are moved from only when a worker takes the job.
    bool dispatch(socket_t sock, std::string& bytes, std::size_t served)
    {
        std::function<void()> job = Job{&server_, sock, std::move(bytes), served};
        if (pool_.try_enqueue(std::move(job))) return true;
        bytes = std::move(job.target<Job>()->bytes);
        return false;
    }

    static HeadLoopLimits loop_limits(const GuardedServer& server)
    {
        HeadLoopLimits limits;
        limits.idle_timeout = to_ms(server.keep_alive_timeout_sec_, 0);
        return limits;
    }

    GuardedServer& server_;
    WorkerPool pool_;
    HeadLoop loop_;
};

GuardedServer::GuardedServer(const WorkerPoolLimits& workers, const HeadLimits& limits)
    : workers_(workers), limits_(limits)
{
    new_task_queue = [this] { return new Connections(*this); };
}

bool GuardedServer::process_and_close_socket(socket_t sock)
{
    if (Connections* connections = connections_.load()) {
        connections->loop().add(sock, 0);
        return true;
    }
    ::close(sock);
    return false;
}

void GuardedServer::serve(socket_t sock, std::string bytes, std::size_t served)
{
    GuardedStream stream(sock, limits_, to_ms(read_timeout_sec_, read_timeout_usec_),
                         to_ms(write_timeout_sec_, write_timeout_usec_), bytes);
    std::string().swap(bytes);
    bool linger = false;
    // As httplib's own loop: up to keep_alive_max_count_ requests, the last one answered
    // "Connection: close". A next request whose head is here within kNextRequestWait is
    // served on this thread; else the connection waits for the rest in the event loop,
    // holding no thread, with what has arrived of it.
    for (; served < keep_alive_max_count_ && svr_sock_ != INVALID_SOCKET; ++served) {
        if (!stream.head_ready()) {
            if (!stream.has_buffered()) wait_for(sock, POLLIN, kNextRequestWait);
            stream.read_available();
        }
        if (!stream.head_ready()) {
            if (Connections* connections = connections_.load()) {
                connections->loop().add(sock, served, stream.take_buffered());
                return;
            }
            break;
        }
        t_close_after_answer = false;
        stream.begin_request();
        bool connection_closed = false;
        const bool ok = process_request(stream, served + 1 == keep_alive_max_count_,
                                        connection_closed, nullptr);
        linger = stream.spoiled() || t_close_after_answer;
        if (!ok || connection_closed || linger) break;
    }
    t_close_after_answer = false;
    if (linger) drain(sock, [this] { return svr_sock_ == INVALID_SOCKET; });
    ::shutdown(sock, SHUT_RDWR);
    ::close(sock);
    if (Connections* connections = connections_.load()) connections->loop().wake();
}

}  // namespace ck

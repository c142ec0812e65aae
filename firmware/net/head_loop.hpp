// The event loop in front of the worker threads: it reads each request's head, so that a
// connection waiting for its client (slow, idle or gone quiet) holds no thread.
//
// cpp-httplib serves a connection on one thread from its first byte to its last, so 2,000
// clients trickling their heads a byte at a time held 2,000 threads, or all of them and a
// queue (issue 14, item 11: a normal check-in took 11-19 s behind 800 of them). Here one
// thread waits for all of them with epoll: a new connection, and a kept-alive one between
// requests, sit in the loop until a whole head has arrived (up to its empty line), or more
// than HeadLimits allow (the worker refuses it: 414, 431). Only then does a worker thread
// take the connection, with the bytes read so far, and serve the request (its body is read
// there); an answered connection with nothing more buffered comes back to the loop.
//
// When every worker is busy and the pool's queue full, complete heads wait in the loop, in
// order of arrival, for the next worker to finish.
//
// The loop itself answers a head not complete within `head_deadline` of its first byte
// (408 request_timeout), a connection whose head would go past the bytes all waiting heads
// may hold together, or that waited `head_deadline` for a worker (503 server_busy), and then reads
// and drops what the client still sends for a moment before closing (closing with unread bytes
// would reset the connection and could lose the answer). A connection idle for `idle_timeout`
// before its request's first byte is closed without an answer, as a keep-alive one is.
// Memory is bounded: at most `max_connections` wait (more are closed at once) and their
// heads hold at most `max_buffered_bytes` in all.
#pragma once

#include <httplib.h>

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/error_codes.hpp"

namespace ck {

struct HeadLimits {
    std::size_t max_request_line = 8192;
    std::size_t max_header_line = 8192;
    std::size_t max_header_lines = 100;
    std::size_t max_head_bytes = 32 * 1024;
    std::chrono::milliseconds head_deadline{10000};
};

struct HeadLoopLimits {
    std::size_t max_connections = 8192;
    std::size_t max_buffered_bytes = 8u << 20;
    std::chrono::milliseconds idle_timeout{5000};
};

// Where a request head stands as its bytes arrive, fed piece by piece: ready once it is
// complete (its empty line) or past one of the limits (the worker then refuses it, 414 or
// 431), so that the client is answered for what it sent, never 408 for a head too long.
class HeadScan {
public:
    explicit HeadScan(const HeadLimits& limits) : limits_(&limits) {}
    // Feeds the head's next bytes; true once it is ready (later bytes are not looked at).
    bool feed(std::string_view bytes);

private:
    const HeadLimits* limits_;
    std::size_t bytes_ = 0;
    std::size_t line_bytes_ = 0;  // of the current line
    std::size_t lines_ = 0;       // completed, the request line included
    char last_ = 0;
    bool ready_ = false;
};

// A complete answer refusing a request: the status line, the error envelope of `code` and
// "Connection: close". The loop and the guarded stream send the same bytes.
std::string refusal_answer(const ErrorCode& code, const std::string& message,
                           const std::string& hint);

class HeadLoop {
public:
    // Takes a connection whose head has arrived (its bytes so far, which it moves from when
    // it takes them, and the number of requests answered on it before): false when it
    // cannot (every worker busy), and the loop answers 503. Runs on the loop's thread and
    // must not block.
    using Dispatch = std::function<bool(socket_t sock, std::string& bytes, std::size_t served)>;

    HeadLoop(const HeadLimits& head, const HeadLoopLimits& limits, Dispatch dispatch);
    ~HeadLoop();  // stop()
    HeadLoop(const HeadLoop&) = delete;
    HeadLoop& operator=(const HeadLoop&) = delete;

    // Waits for the next request on `sock` (from any thread; the loop owns it from now on
    // and closes it), of which `bytes` have been read already. A stopped or full loop
    // closes it at once.
    void add(socket_t sock, std::size_t served, std::string bytes = {});
    // A worker has finished a connection: the loop hands it the next head in line, if any.
    void wake();
    // Ends the loop's thread and closes every connection it holds. Idempotent.
    void stop();

    struct Counts {
        std::size_t waiting = 0;         // connections whose next head is awaited
        std::size_t ready = 0;           // heads arrived, waiting for a worker
        std::size_t draining = 0;        // refused, dropping what the client still sends
        std::size_t buffered_bytes = 0;  // of heads being read
        std::size_t timed_out = 0;       // heads answered 408, so far
        std::size_t refused_busy = 0;    // connections answered 503, so far
    };
    Counts counts() const;
    // The counts of the loop serving now (one server runs per process), for /metrics.
    static std::optional<Counts> serving_counts();

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace ck

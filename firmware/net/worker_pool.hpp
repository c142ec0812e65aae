// The server's worker threads. A worker serves a connection from the moment its request
// head has arrived (the event loop, http/head_loop.hpp, waits for heads) until the answer
// is sent and nothing more is buffered. This pool grows a thread whenever no idle one is
// waiting, up to `max_threads`, and lets threads above `min_threads` go after `idle_exit`
// without work. Threads get small stacks (a few hundred of them fit a 32-bit address space
// next to the LMDB map).
//
// Past `max_threads`, connections wait in a queue of at most `max_queue`; past that, a job
// is refused (try_enqueue answers false) and the event loop keeps the request in line
// until a thread is free, within its own bounds.
#pragma once

#include <pthread.h>

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <vector>

namespace ck {

struct WorkerPoolLimits {
    std::size_t min_threads = 4;
    std::size_t max_threads = 256;
    std::size_t max_queue = 512;
    std::size_t stack_bytes = 512 * 1024;
    std::chrono::milliseconds idle_exit{30000};
};

class WorkerPool final {
public:
    explicit WorkerPool(const WorkerPoolLimits& limits);
    ~WorkerPool();
    WorkerPool(const WorkerPool&) = delete;
    WorkerPool& operator=(const WorkerPool&) = delete;

    // Runs `fn` on a worker thread; false when every thread is busy and the queue is full,
    // or the pool is shutting down: then `fn` is left as it was, for the caller to try again.
    bool try_enqueue(std::function<void()>&& fn);
    // Runs what is queued, then joins every thread. Idempotent.
    void shutdown();

    struct Counts {
        std::size_t threads = 0;       // alive now
        std::size_t busy = 0;          // running a connection now
        std::size_t queued = 0;        // waiting for a thread now
        std::size_t peak_threads = 0;  // most alive at once
        std::size_t refused = 0;       // jobs refused: every thread busy and the queue full
    };
    Counts counts() const;
    // The counts of the pool serving now (the newest one alive), for /metrics; nullopt
    // when no server runs. One server runs per process.
    static std::optional<Counts> serving_counts();

private:
    static void* thread_main(void* self);
    void work();
    bool spawn_locked();  // with mutex_ held
    void join_finished_locked(std::vector<pthread_t>& out);

    const WorkerPoolLimits limits_;
    mutable std::mutex mutex_;
    std::condition_variable wake_;
    std::condition_variable all_gone_;
    std::deque<std::function<void()>> queue_;
    std::vector<pthread_t> finished_;  // exited threads not yet joined
    std::size_t threads_ = 0;
    std::size_t idle_ = 0;
    std::size_t peak_ = 0;
    std::size_t refused_ = 0;
    bool stopping_ = false;
};

}  // namespace ck

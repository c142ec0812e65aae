// The server's worker threads. cpp-httplib gives each connection a thread for its whole
// life, keep-alive included, so a fixed pool smaller than the number of open connections
// makes new connections wait behind idle ones (the "keep-alive trap"). This pool grows a
// thread whenever no idle one is waiting, up to `max_threads`, and lets threads above
// `min_threads` go after `idle_exit` without work. Threads get small stacks (a few
// hundred of them fit a 32-bit address space next to the LMDB map).
//
// Past `max_threads`, connections wait in a queue of at most `max_queue`; past that, the
// accepting thread serves the connection itself, so accepting stops and further clients
// wait in the kernel's listen backlog instead of in unbounded memory.
#pragma once

#include <httplib.h>
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

class WorkerPool final : public httplib::TaskQueue {
public:
    explicit WorkerPool(const WorkerPoolLimits& limits);
    ~WorkerPool() override;
    WorkerPool(const WorkerPool&) = delete;
    WorkerPool& operator=(const WorkerPool&) = delete;

    void enqueue(std::function<void()> fn) override;
    void shutdown() override;

    struct Counts {
        std::size_t threads = 0;       // alive now
        std::size_t busy = 0;          // running a connection now
        std::size_t queued = 0;        // waiting for a thread now
        std::size_t peak_threads = 0;  // most alive at once
        std::size_t inline_runs = 0;   // connections the accepting thread served itself
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
    std::size_t inline_runs_ = 0;
    bool stopping_ = false;
};

}  // namespace ck

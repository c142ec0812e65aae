#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "net/worker_pool.hpp"

namespace {

// A latch the test opens when it has seen what it wanted while the jobs were blocked.
struct Gate {
    std::mutex mutex;
    std::condition_variable cv;
    bool open = false;
    int waiting = 0;

    void wait()
    {
        std::unique_lock lock(mutex);
        ++waiting;
        cv.notify_all();
        cv.wait(lock, [this] { return open; });
    }
    void wait_for_waiting(int n)
    {
        std::unique_lock lock(mutex);
        REQUIRE(cv.wait_for(lock, std::chrono::seconds(20), [&] { return waiting >= n; }));
    }
    void release()
    {
        std::lock_guard lock(mutex);
        open = true;
        cv.notify_all();
    }
};

}  // namespace

TEST_CASE("the worker pool grows a thread for each connection no idle thread can take")
{
    ck::WorkerPool pool({.min_threads = 1,
                         .max_threads = 3,
                         .max_queue = 2,
                         .stack_bytes = 256 * 1024,
                         .idle_exit = std::chrono::hours(1)});
    Gate gate;
    std::atomic<int> ran{0};
    // One at a time, so that each finds the others busy (not merely not started yet).
    for (int i = 0; i < 3; ++i) {
        CHECK(pool.try_enqueue([&] {
            gate.wait();
            ++ran;
        }));
        gate.wait_for_waiting(i + 1);
    }
    // Three blocked at once: the pool grew from one thread to three.
    auto counts = pool.counts();
    CHECK(counts.threads == 3);
    CHECK(counts.busy == 3);
    CHECK(counts.peak_threads == 3);

    // At the limit, two more wait in the queue...
    CHECK(pool.try_enqueue([&] { ++ran; }));
    CHECK(pool.try_enqueue([&] { ++ran; }));
    CHECK(pool.counts().queued == 2);
    CHECK(pool.counts().threads == 3);
    // ...and the next is refused (the server answers 503) instead of growing either.
    CHECK_FALSE(pool.try_enqueue([&] { ++ran; }));
    CHECK(pool.counts().refused == 1);
    CHECK(pool.counts().queued == 2);

    gate.release();
    pool.shutdown();  // runs what is queued, then joins
    CHECK(ran == 5);
    CHECK(pool.counts().threads == 0);
    // A pool shut down takes nothing more.
    CHECK_FALSE(pool.try_enqueue([&] { ++ran; }));
    CHECK(ran == 5);
}

TEST_CASE("threads above the minimum leave after being idle, and come back when needed")
{
    ck::WorkerPool pool({.min_threads = 1,
                         .max_threads = 4,
                         .max_queue = 8,
                         .stack_bytes = 256 * 1024,
                         .idle_exit = std::chrono::milliseconds(1)});
    Gate gate;
    for (int i = 0; i < 4; ++i) {
        CHECK(pool.try_enqueue([&] { gate.wait(); }));
        gate.wait_for_waiting(i + 1);
    }
    CHECK(pool.counts().threads == 4);
    gate.release();
    // Bounded wait for the extra threads to time out (not a timing assertion).
    for (int i = 0; i < 20000 && pool.counts().threads > 1; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    CHECK(pool.counts().threads == 1);

    std::atomic<int> ran{0};
    Gate again;
    for (int i = 0; i < 3; ++i) {
        CHECK(pool.try_enqueue([&] {
            again.wait();
            ++ran;
        }));
        again.wait_for_waiting(i + 1);
    }
    CHECK(pool.counts().threads >= 3);
    again.release();
    pool.shutdown();
    CHECK(ran == 3);
}

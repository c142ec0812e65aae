// Group commit: every write to the store goes through one writer thread, which runs the
// jobs waiting at that moment in one LMDB write transaction and one commit (one fsync),
// then answers each of them. A job's caller is answered only after the commit is on disk,
// so a 2xx built on the answer means durable.
//
// Each job runs in a nested transaction: a job that fails (returns an error Status) is
// rolled back alone and the others in its batch still commit. A failed commit fails every
// job of the batch.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <mutex>
#include <thread>

#include "store/lmdb.hpp"

namespace ck {

class WriteQueue {
public:
    using Job = std::function<Status(Txn&)>;

    explicit WriteQueue(const LmdbEnv& env);
    ~WriteQueue();  // finishes the queued jobs, then stops the writer
    WriteQueue(const WriteQueue&) = delete;
    WriteQueue& operator=(const WriteQueue&) = delete;

    // Runs `job` in a write transaction and blocks until that transaction is committed
    // (or failed). Returns the job's own error, or the commit's, or ok.
    Status run(Job job);

    // Counters for metrics and tests.
    std::uint64_t batches() const;
    std::uint64_t jobs() const;

private:
    struct Pending {
        Job job;
        std::promise<Status> done;
    };
    void writer_loop();
    void run_batch(std::deque<Pending>& batch);

    const LmdbEnv& env_;
    mutable std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<Pending> queue_;
    bool stopping_ = false;
    std::uint64_t batches_ = 0;
    std::uint64_t jobs_ = 0;
    std::thread writer_;
};

}  // namespace ck

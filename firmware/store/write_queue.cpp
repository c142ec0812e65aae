#include "store/write_queue.hpp"

#include <vector>

namespace ck {

WriteQueue::WriteQueue(const LmdbEnv& env) : env_(env), writer_([this] { writer_loop(); }) {}

WriteQueue::~WriteQueue()
{
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    writer_.join();
}

Status WriteQueue::run(Job job)
{
    std::future<Status> done;
    {
        std::lock_guard lock(mutex_);
        if (stopping_) return Status::error(err::storage_unavailable, "the store is closing");
        queue_.push_back(Pending{std::move(job), {}});
        done = queue_.back().done.get_future();
    }
    wake_.notify_one();
    return done.get();
}

std::uint64_t WriteQueue::batches() const
{
    std::lock_guard lock(mutex_);
    return batches_;
}

std::uint64_t WriteQueue::jobs() const
{
    std::lock_guard lock(mutex_);
    return jobs_;
}

void WriteQueue::writer_loop()
{
    for (;;) {
        std::deque<Pending> batch;
        {
            std::unique_lock lock(mutex_);
            wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
            if (queue_.empty()) return;  // stopping, nothing left
            batch.swap(queue_);
            ++batches_;
            jobs_ += batch.size();
        }
        run_batch(batch);
    }
}

void WriteQueue::run_batch(std::deque<Pending>& batch)
{
    auto txn = Txn::begin(env_, Txn::Mode::read_write);
    if (!txn) {
        for (auto& p : batch) p.done.set_value(txn.status());
        return;
    }
    std::vector<Status> results;
    results.reserve(batch.size());
    for (auto& p : batch) {
        auto child = Txn::begin(env_, Txn::Mode::read_write, &*txn);
        if (!child) {
            results.push_back(child.status());
            continue;
        }
        Status status;
        try {
            status = p.job(*child);
        } catch (const std::exception& e) {
            status =
                Status::error(err::internal_error, std::string("write job failed: ") + e.what());
        } catch (...) {
            status = Status::error(err::internal_error, "write job failed");
        }
        if (status) status = child->commit();
        child->abort();  // no-op after a commit
        results.push_back(status);
    }
    Status committed = txn->commit();
    for (std::size_t i = 0; i < batch.size(); ++i) {
        batch[i].done.set_value(committed ? results[i] : committed);
    }
}

}  // namespace ck

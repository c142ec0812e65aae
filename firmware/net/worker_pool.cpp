#include "net/worker_pool.hpp"

#include <stdexcept>

#include "log/log.hpp"

namespace ck {
namespace {

std::mutex serving_mutex;
const WorkerPool* serving = nullptr;  // with serving_mutex held

}  // namespace

WorkerPool::WorkerPool(const WorkerPoolLimits& limits) : limits_(limits)
{
    if (limits_.min_threads == 0 || limits_.max_threads < limits_.min_threads) {
        throw std::invalid_argument("worker pool: need 1 <= min_threads <= max_threads");
    }
    {
        std::lock_guard lock(mutex_);
        for (std::size_t i = 0; i < limits_.min_threads; ++i) {
            if (!spawn_locked()) throw std::runtime_error("worker pool: cannot start a thread");
        }
    }
    // serving_mutex is never taken with mutex_ held: serving_counts() takes them the
    // other way round.
    std::lock_guard serving_lock(serving_mutex);
    serving = this;
}

WorkerPool::~WorkerPool()
{
    {
        std::lock_guard serving_lock(serving_mutex);
        if (serving == this) serving = nullptr;
    }
    shutdown();
}

std::optional<WorkerPool::Counts> WorkerPool::serving_counts()
{
    std::lock_guard serving_lock(serving_mutex);
    if (serving == nullptr) return std::nullopt;
    return serving->counts();
}

bool WorkerPool::spawn_locked()
{
    pthread_attr_t attr;
    if (pthread_attr_init(&attr) != 0) return false;
    pthread_attr_setstacksize(&attr, limits_.stack_bytes);
    pthread_t thread{};
    const int rc = pthread_create(&thread, &attr, &WorkerPool::thread_main, this);
    pthread_attr_destroy(&attr);
    if (rc != 0) return false;
    ++threads_;
    peak_ = std::max(peak_, threads_);
    return true;
}

void WorkerPool::join_finished_locked(std::vector<pthread_t>& out)
{
    out.insert(out.end(), finished_.begin(), finished_.end());
    finished_.clear();
}

bool WorkerPool::try_enqueue(std::function<void()>&& fn)
{
    std::vector<pthread_t> exited;
    bool taken = false;
    std::size_t refused = 0;
    {
        std::lock_guard lock(mutex_);
        join_finished_locked(exited);
        if (!stopping_ &&
            (idle_ > queue_.size() || (threads_ < limits_.max_threads && spawn_locked()) ||
             queue_.size() < limits_.max_queue)) {
            queue_.push_back(std::move(fn));
            taken = true;
        } else if (!stopping_) {
            refused = ++refused_;
        }
    }
    if (taken) wake_.notify_one();
    for (pthread_t t : exited) pthread_join(t, nullptr);
    if (refused % 1000 == 1) {  // the first, and then one in a thousand
        CK_WARN("http", "all " << limits_.max_threads << " worker threads busy and "
                               << limits_.max_queue
                               << " connections queued: requests wait for a thread (" << refused
                               << " times so far)");
    }
    return taken;
}

void WorkerPool::shutdown()
{
    std::vector<pthread_t> exited;
    {
        std::unique_lock lock(mutex_);
        stopping_ = true;
        wake_.notify_all();
        all_gone_.wait(lock, [this] { return threads_ == 0; });
        join_finished_locked(exited);
    }
    for (pthread_t t : exited) pthread_join(t, nullptr);
}

WorkerPool::Counts WorkerPool::counts() const
{
    std::lock_guard lock(mutex_);
    return Counts{threads_, threads_ - idle_, queue_.size(), peak_, refused_};
}

void* WorkerPool::thread_main(void* self)
{
    static_cast<WorkerPool*>(self)->work();
    return nullptr;
}

void WorkerPool::work()
{
    std::unique_lock lock(mutex_);
    for (;;) {
        if (queue_.empty()) {
            if (stopping_) break;
            ++idle_;
            const auto waited = wake_.wait_for(lock, limits_.idle_exit);
            --idle_;
            if (waited == std::cv_status::timeout && queue_.empty() && !stopping_ &&
                threads_ > limits_.min_threads) {
                break;
            }
            continue;
        }
        std::function<void()> fn = std::move(queue_.front());
        queue_.pop_front();
        lock.unlock();
        try {
            fn();
        } catch (const std::exception& e) {
            CK_ERROR("http", "a connection failed: " << e.what());
        } catch (...) {
            CK_ERROR("http", "a connection failed");
        }
        fn = nullptr;  // closes nothing the connection still needs, outside the lock
        lock.lock();
    }
    --threads_;
    finished_.push_back(pthread_self());
    if (threads_ == 0) all_gone_.notify_all();
}

}  // namespace ck

#include "db/pool.hpp"

#include "log/log.hpp"

namespace ck::registry {

ConnectionPool::ConnectionPool(std::string conninfo, std::size_t max_connections,
                               std::chrono::milliseconds wait)
    : conninfo_(std::move(conninfo)), max_(max_connections), wait_(wait)
{
}

ConnectionPool::Lease::Lease(ConnectionPool& pool, std::unique_ptr<Database> db)
    : pool_(&pool), db_(std::move(db))
{
}

ConnectionPool::Lease::~Lease()
{
    if (db_) pool_->give_back(std::move(db_));
}

Result<ConnectionPool::Lease> ConnectionPool::acquire()
{
    {
        std::unique_lock lock(mutex_);
        if (!freed_.wait_for(lock, wait_, [this] { return !idle_.empty() || open_ < max_; })) {
            return Status::error(err::server_busy, "Every PostgreSQL connection is busy.",
                                 "Try again in a few seconds.");
        }
        if (!idle_.empty()) {
            auto db = std::move(idle_.back());
            idle_.pop_back();
            return Lease(*this, std::move(db));
        }
        ++open_;  // reserved while connecting, outside the lock
    }
    auto db = Database::connect(conninfo_);
    if (!db) {
        std::lock_guard lock(mutex_);
        --open_;
        freed_.notify_one();
        CK_WARN("db", db.status().message());
        return Status::error(err::storage_unavailable, "The registry's database is unavailable.",
                             "The registry reconnects by itself; try again shortly.");
    }
    return Lease(*this, std::make_unique<Database>(std::move(*db)));
}

void ConnectionPool::give_back(std::unique_ptr<Database> db)
{
    std::lock_guard lock(mutex_);
    if (db->healthy()) {
        idle_.push_back(std::move(db));
    } else {
        --open_;  // dropped: the next request connects anew
    }
    freed_.notify_one();
}

std::size_t ConnectionPool::open_connections() const
{
    std::lock_guard lock(mutex_);
    return open_;
}

}  // namespace ck::registry

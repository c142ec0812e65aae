// Connections for a server's worker threads: one per request at a time, kept for the next.
//
// A connection found broken after use (PostgreSQL restarted, the network went) is dropped,
// and the next request connects anew; while PostgreSQL cannot be reached every request gets
// storage_unavailable (503) and the devices retry. Nothing here outlives a restart of
// PostgreSQL but the connection string.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/status.hpp"
#include "db/pg.hpp"

namespace ck::registry {

class ConnectionPool {
public:
    // At most `max_connections` at once; a request that finds them all busy waits up to
    // `wait` for one, then gets server_busy.
    ConnectionPool(std::string conninfo, std::size_t max_connections,
                   std::chrono::milliseconds wait = std::chrono::seconds(5));

    // A connection for the current request; back to the pool when the lease ends.
    class Lease {
    public:
        Lease(ConnectionPool& pool, std::unique_ptr<Database> db);
        ~Lease();
        Lease(Lease&&) noexcept = default;
        Lease(const Lease&) = delete;
        Lease& operator=(const Lease&) = delete;
        Lease& operator=(Lease&&) = delete;
        Database& operator*() { return *db_; }
        Database* operator->() { return db_.get(); }

    private:
        ConnectionPool* pool_;
        std::unique_ptr<Database> db_;
    };

    Result<Lease> acquire();

    // Connections open now (idle and leased), for /metrics.
    std::size_t open_connections() const;

private:
    void give_back(std::unique_ptr<Database> db);

    const std::string conninfo_;
    const std::size_t max_;
    const std::chrono::milliseconds wait_;
    mutable std::mutex mutex_;
    std::condition_variable freed_;
    std::vector<std::unique_ptr<Database>> idle_;
    std::size_t open_ = 0;
};

}  // namespace ck::registry

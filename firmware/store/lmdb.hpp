// Thin RAII layer over LMDB: an environment, transactions and return-code translation.
//
// Contract: every LMDB return code is checked; MDB_NOTFOUND is an outcome (nullopt),
// everything else that is not MDB_SUCCESS becomes a Status whose code the HTTP layer maps
// (storage_full -> 507, storage_unavailable -> 503). A transaction that failed a write
// must be aborted, which the destructor does unless commit() succeeded.
#pragma once

#include <lmdb.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.hpp"

namespace ck {

// Maps an LMDB (or errno) return code to a Status naming `what` failed.
Status lmdb_status(int rc, std::string_view what);

class LmdbEnv {
public:
    LmdbEnv() = default;
    ~LmdbEnv();
    LmdbEnv(const LmdbEnv&) = delete;
    LmdbEnv& operator=(const LmdbEnv&) = delete;

    // Opens (creating the files if needed) the environment in directory `dir`, which must
    // exist. Durable: no MDB_NOSYNC / MDB_NOMETASYNC. MDB_NOTLS so read transactions may
    // move between worker threads.
    Status open(const std::string& dir, std::size_t map_size, unsigned max_dbs);
    MDB_env* get() const { return env_; }
    // Current map size in bytes, and bytes in use (last used page).
    std::size_t map_size() const;
    std::size_t used_bytes() const;

private:
    MDB_env* env_ = nullptr;
};

class Txn {
public:
    enum class Mode { read_only, read_write };
    Txn() = default;
    ~Txn() { abort(); }
    Txn(Txn&& other) noexcept : txn_(other.txn_), read_error_(other.read_error_)
    {
        other.txn_ = nullptr;
    }
    Txn& operator=(Txn&& other) noexcept;
    Txn(const Txn&) = delete;
    Txn& operator=(const Txn&) = delete;

    // Begins a transaction (a nested one when `parent` is given).
    static Result<Txn> begin(const LmdbEnv& env, Mode mode, Txn* parent = nullptr);
    Status commit();
    void abort();
    MDB_txn* get() const { return txn_; }

    // Reads answer nothing (nullopt, no visit, 0) when LMDB fails them as well as when the
    // key is absent. Such a failure (a damaged page, a bad handle) is remembered: commit()
    // then refuses with it, so nothing decided on a failed read reaches the disk.

    // nullopt when the key is absent; the view is valid until the transaction ends.
    std::optional<std::string_view> get(MDB_dbi dbi, std::string_view key) const;
    Status put(MDB_dbi dbi, std::string_view key, std::string_view value, unsigned flags = 0);
    // put() for a key that usually sorts after every key in `dbi` (a time-ordered id):
    // appended, which fills pages instead of splitting them in half; otherwise a plain put.
    Status put_likely_last(MDB_dbi dbi, std::string_view key, std::string_view value);
    // Deleting an absent key is not an error.
    Status del(MDB_dbi dbi, std::string_view key);
    // Calls `visit(key, value)` for keys >= `from` in order while it returns true.
    void scan(MDB_dbi dbi, std::string_view from,
              const std::function<bool(std::string_view, std::string_view)>& visit) const;
    // Same, from the last key backwards.
    void scan_reverse(MDB_dbi dbi,
                      const std::function<bool(std::string_view, std::string_view)>& visit) const;
    std::size_t entries(MDB_dbi dbi) const;

private:
    explicit Txn(MDB_txn* txn) : txn_(txn) {}
    // Keeps the first failed read's code (MDB_NOTFOUND is not a failure).
    void note_read(int rc) const;
    MDB_txn* txn_ = nullptr;
    mutable int read_error_ = MDB_SUCCESS;
};

// Big-endian encoding, so that LMDB's byte order is numeric order.
std::string encode_u64(std::uint64_t value);
std::uint64_t decode_u64(std::string_view bytes);

}  // namespace ck

#include "store/lmdb.hpp"

#include <sys/statvfs.h>

#include <cerrno>
#include <cstring>

namespace ck {
namespace {

MDB_val to_val(std::string_view s) { return MDB_val{s.size(), const_cast<char*>(s.data())}; }

std::string_view from_val(const MDB_val& v)
{
    return {static_cast<const char*>(v.mv_data), v.mv_size};
}

// LMDB reports a page write the disk cut short as EIO, the same as a failing disk. Free
// space below one write's worth says which it was.
bool disk_is_full(MDB_env* env)
{
    const char* dir = nullptr;
    struct statvfs fs {};
    if (mdb_env_get_path(env, &dir) != MDB_SUCCESS || statvfs(dir, &fs) != 0) return false;
    constexpr unsigned long long kFullBelowBytes = 1ULL << 20;
    return static_cast<unsigned long long>(fs.f_bavail) * fs.f_frsize < kFullBelowBytes;
}

}  // namespace

Status lmdb_status(int rc, std::string_view what)
{
    if (rc == MDB_SUCCESS) return Status::ok();
    std::string message = std::string(what) + ": " + mdb_strerror(rc);
    if (rc == MDB_MAP_FULL || rc == ENOSPC || rc == EDQUOT) {
        return Status::error(err::storage_full, message,
                             "Free disk space or raise the store's map size, then retry.");
    }
    if (rc == EROFS || rc == EACCES || rc == EPERM || rc == EIO) {
        return Status::error(err::storage_unavailable, message,
                             "Check that the data directory is on a writable, healthy disk.");
    }
    if (rc == MDB_VERSION_MISMATCH || rc == MDB_INVALID || rc == MDB_CORRUPTED) {
        return Status::error(err::store_unreadable, message,
                             "The data directory does not hold a store this version can read.");
    }
    return Status::error(err::storage_error, message, "See the device log.");
}

LmdbEnv::~LmdbEnv()
{
    if (env_ != nullptr) mdb_env_close(env_);
}

Status LmdbEnv::open(const std::string& dir, std::size_t map_size, unsigned max_dbs)
{
    int rc = mdb_env_create(&env_);
    if (rc != MDB_SUCCESS) return lmdb_status(rc, "creating the LMDB environment");
    if ((rc = mdb_env_set_maxdbs(env_, max_dbs)) != MDB_SUCCESS)
        return lmdb_status(rc, "setting the number of databases");
    if ((rc = mdb_env_set_mapsize(env_, map_size)) != MDB_SUCCESS)
        return lmdb_status(rc, "setting the map size");
    if ((rc = mdb_env_set_maxreaders(env_, 254)) != MDB_SUCCESS)
        return lmdb_status(rc, "setting the reader count");
    rc = mdb_env_open(env_, dir.c_str(), MDB_NOTLS, 0600);
    if (rc != MDB_SUCCESS) {
        mdb_env_close(env_);
        env_ = nullptr;
        return lmdb_status(rc, "opening the store in " + dir);
    }
    // Clear readers left behind by a process that was killed.
    int dead = 0;
    mdb_reader_check(env_, &dead);
    return Status::ok();
}

std::size_t LmdbEnv::map_size() const
{
    MDB_envinfo info{};
    mdb_env_info(env_, &info);
    return info.me_mapsize;
}

std::size_t LmdbEnv::used_bytes() const
{
    MDB_envinfo info{};
    MDB_stat stat{};
    mdb_env_info(env_, &info);
    mdb_env_stat(env_, &stat);
    return (info.me_last_pgno + 1) * stat.ms_psize;
}

Txn& Txn::operator=(Txn&& other) noexcept
{
    if (this != &other) {
        abort();
        txn_ = other.txn_;
        read_error_ = other.read_error_;
        other.txn_ = nullptr;
    }
    return *this;
}

Result<Txn> Txn::begin(const LmdbEnv& env, Mode mode, Txn* parent)
{
    MDB_txn* txn = nullptr;
    unsigned flags = mode == Mode::read_only ? MDB_RDONLY : 0;
    int rc = mdb_txn_begin(env.get(), parent != nullptr ? parent->get() : nullptr, flags, &txn);
    if (rc != MDB_SUCCESS) return lmdb_status(rc, "beginning a transaction");
    return Txn(txn);
}

Status Txn::commit()
{
    if (txn_ == nullptr)
        return Status::error(err::storage_error, "commit of a finished transaction");
    if (read_error_ != MDB_SUCCESS) {
        abort();
        return lmdb_status(read_error_, "reading the store");
    }
    MDB_env* env = mdb_txn_env(txn_);
    int rc = mdb_txn_commit(txn_);
    txn_ = nullptr;  // LMDB frees the transaction whether or not the commit succeeded
    if (rc == EIO && disk_is_full(env)) rc = ENOSPC;
    return lmdb_status(rc, "committing to the store");
}

void Txn::note_read(int rc) const
{
    if (rc != MDB_SUCCESS && rc != MDB_NOTFOUND && read_error_ == MDB_SUCCESS) read_error_ = rc;
}

void Txn::abort()
{
    if (txn_ != nullptr) mdb_txn_abort(txn_);
    txn_ = nullptr;
}

std::optional<std::string_view> Txn::get(MDB_dbi dbi, std::string_view key) const
{
    MDB_val k = to_val(key);
    MDB_val v{};
    const int rc = mdb_get(txn_, dbi, &k, &v);
    note_read(rc);
    if (rc != MDB_SUCCESS) return std::nullopt;
    return from_val(v);
}

Status Txn::put(MDB_dbi dbi, std::string_view key, std::string_view value, unsigned flags)
{
    MDB_val k = to_val(key);
    MDB_val v = to_val(value);
    return lmdb_status(mdb_put(txn_, dbi, &k, &v, flags), "writing to the store");
}

Status Txn::put_likely_last(MDB_dbi dbi, std::string_view key, std::string_view value)
{
    MDB_val k = to_val(key);
    MDB_val v = to_val(value);
    int rc = mdb_put(txn_, dbi, &k, &v, MDB_APPEND);
    if (rc == MDB_KEYEXIST) rc = mdb_put(txn_, dbi, &k, &v, 0);  // not last after all
    return lmdb_status(rc, "writing to the store");
}

Status Txn::del(MDB_dbi dbi, std::string_view key)
{
    MDB_val k = to_val(key);
    int rc = mdb_del(txn_, dbi, &k, nullptr);
    if (rc == MDB_NOTFOUND) return Status::ok();
    return lmdb_status(rc, "deleting from the store");
}

void Txn::scan(MDB_dbi dbi, std::string_view from,
               const std::function<bool(std::string_view, std::string_view)>& visit) const
{
    MDB_cursor* cursor = nullptr;
    if (int rc = mdb_cursor_open(txn_, dbi, &cursor); rc != MDB_SUCCESS) return note_read(rc);
    MDB_val k = to_val(from);
    MDB_val v{};
    int rc = from.empty() ? mdb_cursor_get(cursor, &k, &v, MDB_FIRST)
                          : mdb_cursor_get(cursor, &k, &v, MDB_SET_RANGE);
    while (rc == MDB_SUCCESS && visit(from_val(k), from_val(v))) {
        rc = mdb_cursor_get(cursor, &k, &v, MDB_NEXT);
    }
    note_read(rc);
    mdb_cursor_close(cursor);
}

void Txn::scan_reverse(MDB_dbi dbi,
                       const std::function<bool(std::string_view, std::string_view)>& visit) const
{
    MDB_cursor* cursor = nullptr;
    if (int rc = mdb_cursor_open(txn_, dbi, &cursor); rc != MDB_SUCCESS) return note_read(rc);
    MDB_val k{};
    MDB_val v{};
    int rc = mdb_cursor_get(cursor, &k, &v, MDB_LAST);
    while (rc == MDB_SUCCESS && visit(from_val(k), from_val(v))) {
        rc = mdb_cursor_get(cursor, &k, &v, MDB_PREV);
    }
    note_read(rc);
    mdb_cursor_close(cursor);
}

std::size_t Txn::entries(MDB_dbi dbi) const
{
    MDB_stat stat{};
    const int rc = mdb_stat(txn_, dbi, &stat);
    note_read(rc);
    if (rc != MDB_SUCCESS) return 0;
    return stat.ms_entries;
}

std::string encode_u64(std::uint64_t value)
{
    std::string out(8, '\0');
    for (int i = 7; i >= 0; --i) {
        out[static_cast<std::size_t>(i)] = static_cast<char>(value & 0xff);
        value >>= 8;
    }
    return out;
}

std::uint64_t decode_u64(std::string_view bytes)
{
    std::uint64_t value = 0;
    for (std::size_t i = 0; i < 8 && i < bytes.size(); ++i) {
        value = (value << 8) | static_cast<unsigned char>(bytes[i]);
    }
    return value;
}

}  // namespace ck

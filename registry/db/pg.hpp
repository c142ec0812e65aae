// PostgreSQL through libpq: one connection, parameterised statements, errors as Status.
//
// The registry keeps no state of its own (SPEC section 9): everything is in PostgreSQL,
// reached only through this seam. Statements always go with their parameters as text
// (PQexecParams), never spliced into the SQL.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/status.hpp"

struct pg_conn;
struct pg_result;

namespace ck::registry {

// The rows of one statement's answer, as text; NULL is an empty optional.
class Rows {
public:
    explicit Rows(pg_result* result);
    int count() const;
    std::optional<std::string> get(int row, int column) const;
    std::string text(int row, int column) const;  // NULL as ""

private:
    std::shared_ptr<pg_result> result_;
};

class Database {
public:
    // `conninfo`: a libpq connection string or URI. A database that cannot be reached is
    // Status storage_unavailable, with libpq's reason.
    static Result<Database> connect(const std::string& conninfo);

    // One statement with text parameters ($1, $2, ...; nullopt is NULL).
    Result<Rows> exec(const std::string& sql,
                      const std::vector<std::optional<std::string>>& params = {});

    // Several statements without parameters (migrations), in the current transaction.
    Status exec_script(const std::string& sql);

    // False once the connection is lost (a PostgreSQL restart): it is not used again.
    bool healthy() const;
    // The SQLSTATE of the last failed statement ("23505": a unique constraint), else "".
    const std::string& last_sqlstate() const { return last_sqlstate_; }

private:
    explicit Database(pg_conn* conn);
    Status failed(pg_result* result);
    std::shared_ptr<pg_conn> conn_;
    std::string last_sqlstate_;
};

// Runs `body` between BEGIN and COMMIT; an error from it (or from COMMIT) rolls back.
Status in_transaction(Database& db, const std::function<Status()>& body);

// The rows of a query a batch at a time, for answers too big to hold at once: a cursor in
// a read-only REPEATABLE READ transaction of `db`, so every batch comes from the one
// snapshot taken when it opened. The connection is the cursor's until it is closed or
// destroyed (which rolls back): nothing else may use it meanwhile.
class Cursor {
public:
    static Result<Cursor> open(Database& db, const std::string& sql,
                               const std::vector<std::optional<std::string>>& params = {});
    Cursor(Cursor&& other) noexcept;
    Cursor& operator=(Cursor&&) = delete;
    Cursor(const Cursor&) = delete;
    Cursor& operator=(const Cursor&) = delete;
    ~Cursor();

    // The next (at most) `count` rows; none once all were fetched.
    Result<Rows> fetch(int count);
    // Ends the transaction (also after an error: the connection is usable again).
    Status close();

private:
    explicit Cursor(Database& db) : db_(&db) {}
    Database* db_;
};

// `values` as a PostgreSQL array literal ({"a","b"}), for a `$n::text[]` parameter.
std::string text_array(const std::vector<std::string>& values);

// The connection string the commands use when --db is not given: $COURSE_REGISTRY_DB,
// else postgresql:///course_registry (SPEC section 9).
std::string default_conninfo();

}  // namespace ck::registry

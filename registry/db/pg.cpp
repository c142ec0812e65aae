#include "db/pg.hpp"

#include <libpq-fe.h>

#include <cstdlib>
#include <string_view>

namespace ck::registry {

namespace {

// libpq's messages end in a newline and may span lines; one line reads better in a log.
std::string one_line(std::string_view text)
{
    std::string out;
    for (char c : text) out += (c == '\n' || c == '\r' || c == '\t') ? ' ' : c;
    while (!out.empty() && out.back() == ' ') out.pop_back();
    return out;
}

Status statement_failed(pg_conn* conn, const pg_result* result)
{
    std::string why = one_line(result ? PQresultErrorMessage(result) : PQerrorMessage(conn));
    if (PQstatus(conn) != CONNECTION_OK) {
        return Status::error(err::storage_unavailable, "PostgreSQL connection lost: " + why,
                             "The registry reconnects; check that PostgreSQL is running.");
    }
    return Status::error(err::storage_error, "PostgreSQL refused a statement: " + why);
}

}  // namespace

Rows::Rows(pg_result* result) : result_(result, PQclear) {}

int Rows::count() const { return PQntuples(result_.get()); }

std::optional<std::string> Rows::get(int row, int column) const
{
    if (PQgetisnull(result_.get(), row, column)) return std::nullopt;
    return std::string(PQgetvalue(result_.get(), row, column),
                       static_cast<std::size_t>(PQgetlength(result_.get(), row, column)));
}

std::string Rows::text(int row, int column) const { return get(row, column).value_or(""); }

Database::Database(pg_conn* conn) : conn_(conn, PQfinish) {}

Result<Database> Database::connect(const std::string& conninfo)
{
    pg_conn* conn = PQconnectdb(conninfo.c_str());
    if (conn == nullptr || PQstatus(conn) != CONNECTION_OK) {
        std::string why = conn ? one_line(PQerrorMessage(conn)) : "out of memory";
        if (conn) PQfinish(conn);
        return Status::error(err::storage_unavailable,
                             "cannot connect to PostgreSQL (" + conninfo + "): " + why,
                             "Check --db or COURSE_REGISTRY_DB and that the database exists.");
    }
    // Notices ("relation already exists, skipping") are not the operator's business.
    PQsetNoticeProcessor(
        conn, [](void*, const char*) {}, nullptr);
    return Database(conn);
}

Result<Rows> Database::exec(const std::string& sql,
                            const std::vector<std::optional<std::string>>& params)
{
    std::vector<const char*> values;
    values.reserve(params.size());
    for (const auto& p : params) values.push_back(p ? p->c_str() : nullptr);
    pg_result* result = PQexecParams(conn_.get(), sql.c_str(), static_cast<int>(values.size()),
                                     nullptr, values.data(), nullptr, nullptr, 0);
    ExecStatusType status = result ? PQresultStatus(result) : PGRES_FATAL_ERROR;
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) return failed(result);
    last_sqlstate_.clear();
    return Rows(result);
}

Status Database::exec_script(const std::string& sql)
{
    pg_result* result = PQexec(conn_.get(), sql.c_str());
    ExecStatusType status = result ? PQresultStatus(result) : PGRES_FATAL_ERROR;
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) return failed(result);
    last_sqlstate_.clear();
    PQclear(result);
    return Status::ok();
}

Status Database::failed(pg_result* result)
{
    const char* state = result ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
    last_sqlstate_ = state ? state : "";
    Status s = statement_failed(conn_.get(), result);
    if (result) PQclear(result);
    return s;
}

bool Database::healthy() const { return PQstatus(conn_.get()) == CONNECTION_OK; }

Status in_transaction(Database& db, const std::function<Status()>& body)
{
    if (Status s = db.exec_script("BEGIN"); !s) return s;
    Status s = body();
    if (s) s = db.exec_script("COMMIT");
    if (!s && db.healthy()) (void)db.exec_script("ROLLBACK");
    return s;
}

Result<Cursor> Cursor::open(Database& db, const std::string& sql,
                            const std::vector<std::optional<std::string>>& params)
{
    if (Status s = db.exec_script("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"); !s) return s;
    Cursor cursor(db);
    if (auto declared = db.exec("DECLARE ck_cursor NO SCROLL CURSOR FOR " + sql, params);
        !declared) {
        return declared.status();  // the cursor's destructor rolls back
    }
    return cursor;
}

Cursor::Cursor(Cursor&& other) noexcept : db_(other.db_) { other.db_ = nullptr; }

Cursor::~Cursor()
{
    if (db_ != nullptr && db_->healthy()) (void)db_->exec_script("ROLLBACK");
}

Result<Rows> Cursor::fetch(int count)
{
    return db_->exec("FETCH FORWARD " + std::to_string(count) + " FROM ck_cursor");
}

Status Cursor::close()
{
    if (db_ == nullptr) return Status::ok();
    Database* db = db_;
    db_ = nullptr;
    Status s = db->exec_script("COMMIT");
    if (!s && db->healthy()) (void)db->exec_script("ROLLBACK");
    return s;
}

std::string text_array(const std::vector<std::string>& values)
{
    std::string out = "{";
    for (const std::string& v : values) {
        if (out.size() > 1) out += ',';
        out += '"';
        for (char c : v) {
            if (c == '"' || c == '\\') out += '\\';
            out += c;
        }
        out += '"';
    }
    out += '}';
    return out;
}

std::string default_conninfo()
{
    const char* env = std::getenv("COURSE_REGISTRY_DB");
    return (env && *env) ? std::string(env) : std::string("postgresql:///course_registry");
}

}  // namespace ck::registry

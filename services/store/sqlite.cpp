#include "store/sqlite.hpp"

namespace cohort::store {

database::database(const std::string& path, const open_options& options) {
  sqlite3* raw = nullptr;
  const int flags = (options.read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) |
                    SQLITE_OPEN_NOMUTEX;
  const int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  db_.reset(raw);  // owned even on failure: sqlite3_open_v2 may allocate a handle anyway
  if (rc != SQLITE_OK) {
    const int ext = raw ? sqlite3_extended_errcode(raw) : rc;
    throw sqlite_error(rc, ext, "sqlite: cannot open " + path + ": " + (raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc)));
  }
  sqlite3_extended_result_codes(raw, 1);
  check(sqlite3_busy_timeout(raw, options.busy_timeout_ms));
  if (path != ":memory:" && !options.read_only) exec("PRAGMA journal_mode=WAL");
  exec("PRAGMA foreign_keys=ON");
  exec(options.synchronous_full ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL");
}

void database::check(int rc) const { check(db_.get(), rc); }

void database::check(sqlite3* db, int rc) {
  if (rc == SQLITE_OK || rc == SQLITE_ROW || rc == SQLITE_DONE) return;
  throw sqlite_error(rc & 0xff, sqlite3_extended_errcode(db), std::string("sqlite: ") + sqlite3_errmsg(db));
}

void database::exec(const std::string& sql) { check(sqlite3_exec(db_.get(), sql.c_str(), nullptr, nullptr, nullptr)); }

statement database::prepare(std::string_view sql) { return statement(*this, sql); }

statement& database::cached(const std::string& sql) {
  auto& slot = cache_[sql];
  if (!slot) slot = std::make_unique<statement>(*this, sql);
  slot->reset();
  return *slot;
}

std::int64_t database::last_insert_rowid() const { return sqlite3_last_insert_rowid(db_.get()); }

int database::changes() const { return sqlite3_changes(db_.get()); }

statement::statement(const database& db, std::string_view sql) : db_(db.handle()) {
  sqlite3_stmt* raw = nullptr;
  database::check(db_, sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &raw, nullptr));
  stmt_.reset(raw);
}

statement& statement::bind(int index, std::int64_t value) {
  database::check(db_, sqlite3_bind_int64(stmt_.get(), index, value));
  return *this;
}

statement& statement::bind(int index, std::string_view text) {
  database::check(db_, sqlite3_bind_text64(stmt_.get(), index, text.data(), text.size(), SQLITE_TRANSIENT, SQLITE_UTF8));
  return *this;
}

statement& statement::bind_blob(int index, const void* data, std::size_t size) {
  database::check(db_, sqlite3_bind_blob64(stmt_.get(), index, data, size, SQLITE_TRANSIENT));
  return *this;
}

statement& statement::bind_null(int index) {
  database::check(db_, sqlite3_bind_null(stmt_.get(), index));
  return *this;
}

bool statement::step() {
  const int rc = sqlite3_step(stmt_.get());
  database::check(db_, rc);
  return rc == SQLITE_ROW;
}

void statement::run() {
  while (step()) {
  }
}

void statement::reset() {
  sqlite3_reset(stmt_.get());
  sqlite3_clear_bindings(stmt_.get());
}

std::int64_t statement::int64(int column) const { return sqlite3_column_int64(stmt_.get(), column); }

std::string statement::text(int column) const {
  const auto* p = sqlite3_column_text(stmt_.get(), column);
  return p ? std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(sqlite3_column_bytes(stmt_.get(), column)))
           : std::string();
}

bool statement::is_null(int column) const { return sqlite3_column_type(stmt_.get(), column) == SQLITE_NULL; }

std::optional<std::int64_t> statement::optional_int64(int column) const {
  if (is_null(column)) return std::nullopt;
  return int64(column);
}

transaction::transaction(database& db, const char* begin_sql) : db_(db) { db_.exec(begin_sql); }

transaction::~transaction() {
  if (done_) return;
  try {
    db_.exec("ROLLBACK");
  } catch (...) {
    // Never throw from a destructor: a failed rollback leaves SQLite to roll back on close.
  }
}

void transaction::commit() {
  db_.exec("COMMIT");
  done_ = true;
}

}  // namespace cohort::store

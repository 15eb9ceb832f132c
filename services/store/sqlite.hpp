// Thin RAII layer over the sqlite3 C API: a connection, a prepared statement, a transaction.
// Every failing call throws sqlite_error carrying the extended result code (SQLiteCpp's check()).
// A database is used by one thread at a time; the writer and each reader own their own.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>

namespace cohort::store {

class sqlite_error : public std::runtime_error {
 public:
  sqlite_error(int code, int extended_code, const std::string& what)
      : std::runtime_error(what), code_(code), extended_code_(extended_code) {}
  int code() const noexcept { return code_; }
  int extended_code() const noexcept { return extended_code_; }

 private:
  int code_;
  int extended_code_;
};

struct open_options {
  bool read_only = false;
  bool synchronous_full = true;
  int busy_timeout_ms = 5000;
};

class statement;

class database {
 public:
  // path ":memory:" gives a private in-memory database (unit tests).
  explicit database(const std::string& path, const open_options& options = {});
  database(database&&) noexcept = default;
  database& operator=(database&&) noexcept = default;

  // Runs one or more statements without results (DDL, PRAGMA, BEGIN...).
  void exec(const std::string& sql);
  statement prepare(std::string_view sql);
  // A statement prepared once per connection and reused (reset, bindings cleared) on every call:
  // for hot paths. Do not hold it across another call with the same SQL.
  statement& cached(const std::string& sql);
  std::int64_t last_insert_rowid() const;
  int changes() const;
  sqlite3* handle() const { return db_.get(); }
  // Throws sqlite_error if rc is not OK/ROW/DONE.
  void check(int rc) const;
  static void check(sqlite3* db, int rc);

 private:
  struct closer {
    void operator()(sqlite3* db) const noexcept { sqlite3_close_v2(db); }
  };
  std::unique_ptr<sqlite3, closer> db_;
  // Destroyed before db_ (declared after it), so statements finalize before the connection closes.
  std::unordered_map<std::string, std::unique_ptr<statement>> cache_;
};

// A prepared statement. Bind indices start at 1, column indices at 0.
class statement {
 public:
  statement(const database& db, std::string_view sql);

  statement& bind(int index, std::int64_t value);
  statement& bind(int index, int value) { return bind(index, static_cast<std::int64_t>(value)); }
  statement& bind(int index, std::string_view text);
  statement& bind(int index, const char* text) { return bind(index, std::string_view(text)); }
  statement& bind_blob(int index, const void* data, std::size_t size);
  statement& bind_null(int index);
  statement& bind(int index, const std::optional<std::int64_t>& value) {
    return value ? bind(index, *value) : bind_null(index);
  }

  // Steps once: true while a row is available.
  bool step();
  // Steps to completion; for INSERT/UPDATE/DELETE.
  void run();
  void reset();

  std::int64_t int64(int column) const;
  std::string text(int column) const;
  bool is_null(int column) const;
  std::optional<std::int64_t> optional_int64(int column) const;

 private:
  struct finalizer {
    void operator()(sqlite3_stmt* s) const noexcept { sqlite3_finalize(s); }
  };
  sqlite3* db_;  // the connection's handle, stable when the database object moves
  std::unique_ptr<sqlite3_stmt, finalizer> stmt_;
};

// BEGIN on construction, ROLLBACK in the destructor unless commit() was called.
class transaction {
 public:
  explicit transaction(database& db, const char* begin_sql = "BEGIN IMMEDIATE");
  ~transaction();
  transaction(const transaction&) = delete;
  transaction& operator=(const transaction&) = delete;
  void commit();

 private:
  database& db_;
  bool done_ = false;
};

}  // namespace cohort::store

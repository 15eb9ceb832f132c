#include "store/sqlite.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <string>

namespace {

using cohort::store::database;
using cohort::store::sqlite_error;
using cohort::store::transaction;

std::int64_t count_rows(database& db, const char* table) {
  auto st = db.prepare(std::string("SELECT count(*) FROM ") + table);
  REQUIRE(st.step());
  return st.int64(0);
}

// The sqlite_error `f` throws; fails the test when it throws nothing.
template <class F>
sqlite_error error_of(F&& f) {
  try {
    f();
  } catch (const sqlite_error& e) {
    return e;
  }
  FAIL("expected sqlite_error");
  return sqlite_error(0, 0, "");
}

}  // namespace

TEST_CASE("statement binds parameters and reads columns back", "[store]") {
  database db(":memory:");
  db.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, n INTEGER, data BLOB)");
  const std::string with_nul("a\0b", 3);
  db.prepare("INSERT INTO t (name, n, data) VALUES (?, ?, ?)")
      .bind(1, "Zoë ✓")
      .bind(2, std::int64_t{9007199254740993})
      .bind_blob(3, with_nul.data(), with_nul.size())
      .run();
  CHECK(db.last_insert_rowid() == 1);
  CHECK(db.changes() == 1);
  db.prepare("INSERT INTO t (name, n) VALUES (?, ?)").bind(1, std::string_view(with_nul)).bind(2, -5).run();
  CHECK(db.last_insert_rowid() == 2);

  auto st = db.prepare("SELECT id, name, n, data FROM t ORDER BY id");
  REQUIRE(st.step());
  CHECK(st.int64(0) == 1);
  CHECK(st.text(1) == "Zoë ✓");
  CHECK(st.int64(2) == 9007199254740993);
  CHECK(st.text(3) == with_nul);
  REQUIRE(st.step());
  CHECK(st.text(1) == with_nul);  // embedded NUL survives the round trip
  CHECK(st.int64(2) == -5);
  CHECK(st.is_null(3));
  CHECK(st.text(3).empty());
  CHECK_FALSE(st.step());
}

TEST_CASE("statement can be reset and reused with new bindings", "[store]") {
  database db(":memory:");
  db.exec("CREATE TABLE t (n INTEGER)");
  auto insert = db.prepare("INSERT INTO t (n) VALUES (?)");
  for (int i = 1; i <= 5; ++i) {
    insert.bind(1, i).run();
    insert.reset();
  }
  auto sum = db.prepare("SELECT sum(n) FROM t");
  REQUIRE(sum.step());
  CHECK(sum.int64(0) == 15);
}

TEST_CASE("optional_int64 maps NULL to nullopt and binds back as NULL", "[store]") {
  database db(":memory:");
  db.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, capacity INTEGER)");
  db.prepare("INSERT INTO t (capacity) VALUES (?)").bind(1, std::optional<std::int64_t>{}).run();
  db.prepare("INSERT INTO t (capacity) VALUES (?)").bind(1, std::optional<std::int64_t>{0}).run();
  db.prepare("INSERT INTO t (capacity) VALUES (?)").bind(1, std::optional<std::int64_t>{42}).run();
  auto st = db.prepare("SELECT capacity FROM t ORDER BY id");
  REQUIRE(st.step());
  CHECK(st.optional_int64(0) == std::nullopt);
  REQUIRE(st.step());
  CHECK(st.optional_int64(0) == std::optional<std::int64_t>{0});  // zero is a value, not "missing"
  REQUIRE(st.step());
  CHECK(st.optional_int64(0) == std::optional<std::int64_t>{42});
}

TEST_CASE("transaction rolls back in its destructor unless committed", "[store]") {
  database db(":memory:");
  db.exec("CREATE TABLE t (n INTEGER)");
  {
    transaction tx(db);
    db.exec("INSERT INTO t VALUES (1)");
    CHECK(count_rows(db, "t") == 1);
  }
  CHECK(count_rows(db, "t") == 0);

  {
    transaction tx(db);
    db.exec("INSERT INTO t VALUES (2)");
    tx.commit();
  }
  CHECK(count_rows(db, "t") == 1);

  // an exception escaping the scope undoes the work too
  try {
    transaction tx(db);
    db.exec("INSERT INTO t VALUES (3)");
    throw std::runtime_error("boom");
  } catch (const std::runtime_error&) {
  }
  CHECK(count_rows(db, "t") == 1);
  // and the connection is usable for the next transaction
  transaction tx(db);
  db.exec("INSERT INTO t VALUES (4)");
  tx.commit();
  CHECK(count_rows(db, "t") == 2);
}

TEST_CASE("sqlite_error carries the extended result code", "[store]") {
  database db(":memory:");
  db.exec("CREATE TABLE t (email TEXT UNIQUE, n INTEGER NOT NULL CHECK (n > 0))");
  db.exec("INSERT INTO t VALUES ('a@x.org', 1)");

  auto e = error_of([&] { db.prepare("INSERT INTO t VALUES (?, 2)").bind(1, "a@x.org").run(); });
  CHECK(e.code() == SQLITE_CONSTRAINT);
  CHECK(e.extended_code() == SQLITE_CONSTRAINT_UNIQUE);
  CHECK_THAT(e.what(), Catch::Matchers::Contains("UNIQUE"));

  e = error_of([&] { db.exec("INSERT INTO t VALUES ('b@x.org', 0)"); });
  CHECK(e.extended_code() == SQLITE_CONSTRAINT_CHECK);

  e = error_of([&] { db.exec("INSERT INTO t VALUES ('c@x.org', NULL)"); });
  CHECK(e.extended_code() == SQLITE_CONSTRAINT_NOTNULL);

  e = error_of([&] { db.prepare("SELEC nonsense"); });
  CHECK(e.code() == SQLITE_ERROR);
}

TEST_CASE("foreign keys are enforced on every connection", "[store]") {
  database db(":memory:");
  db.exec("CREATE TABLE parent (id INTEGER PRIMARY KEY);"
          "CREATE TABLE child (parent_id INTEGER NOT NULL REFERENCES parent(id) ON DELETE CASCADE)");
  const auto e = error_of([&] { db.exec("INSERT INTO child VALUES (7)"); });
  CHECK(e.extended_code() == SQLITE_CONSTRAINT_FOREIGNKEY);
  db.exec("INSERT INTO parent VALUES (1); INSERT INTO child VALUES (1)");
  db.exec("DELETE FROM parent WHERE id = 1");
  CHECK(count_rows(db, "child") == 0);
}

TEST_CASE("opening a database that cannot exist throws sqlite_error", "[store]") {
  const auto missing = (std::filesystem::temp_directory_path() / "cohort-no-such-dir" / "x" / "db.sqlite").string();
  const auto e = error_of([&] { database db(missing); });
  CHECK(e.code() == SQLITE_CANTOPEN);
  CHECK_THAT(e.what(), Catch::Matchers::Contains(missing));
}

TEST_CASE("cached returns one prepared statement per SQL, reset for each use", "[store]") {
  database db(":memory:");
  db.exec("CREATE TABLE t (n INTEGER); INSERT INTO t VALUES (1), (2), (3)");
  const std::string sql = "SELECT n FROM t WHERE n >= ? ORDER BY n";

  auto& first = db.cached(sql);
  first.bind(1, 2);
  REQUIRE(first.step());
  CHECK(first.int64(0) == 2);  // left mid-iteration on purpose

  auto& again = db.cached(sql);
  CHECK(&again == &first);
  // reset: iteration starts over, and the old binding is gone (NULL matches nothing)
  CHECK_FALSE(again.step());
  db.cached(sql).bind(1, 1);
  REQUIRE(again.step());
  CHECK(again.int64(0) == 1);

  CHECK(&db.cached("SELECT count(*) FROM t") != &first);
}

TEST_CASE("cached statements see later schema and data changes", "[store]") {
  database db(":memory:");
  db.exec("CREATE TABLE t (n INTEGER)");
  auto& count = db.cached("SELECT count(*) FROM t");
  REQUIRE(count.step());
  CHECK(count.int64(0) == 0);
  db.exec("INSERT INTO t VALUES (1); CREATE INDEX t_n ON t (n); INSERT INTO t VALUES (2)");
  auto& again = db.cached("SELECT count(*) FROM t");
  REQUIRE(again.step());
  CHECK(again.int64(0) == 2);
}

TEST_CASE("a database keeps working, statements included, after it is moved", "[store]") {
  database original(":memory:");
  original.exec("CREATE TABLE t (n INTEGER)");
  auto insert = original.prepare("INSERT INTO t VALUES (?)");
  auto& cached = original.cached("SELECT count(*) FROM t");

  database moved(std::move(original));
  insert.bind(1, 7).run();
  CHECK(&moved.cached("SELECT count(*) FROM t") == &cached);
  REQUIRE(cached.step());
  CHECK(cached.int64(0) == 1);

  // an error through a statement still reports the moved connection's message
  moved.exec("CREATE UNIQUE INDEX t_n ON t (n)");
  insert.reset();
  const auto e = error_of([&] { insert.bind(1, 7).run(); });
  CHECK(e.extended_code() == SQLITE_CONSTRAINT_UNIQUE);
}

#include "store/migrations.hpp"

#include <catch2/catch.hpp>

#include <string>

namespace {

using cohort::store::database;

int user_version(database& db) {
  auto st = db.prepare("PRAGMA user_version");
  REQUIRE(st.step());
  return static_cast<int>(st.int64(0));
}

std::int64_t scalar(database& db, const std::string& sql) {
  auto st = db.prepare(sql);
  REQUIRE(st.step());
  return st.int64(0);
}

}  // namespace

TEST_CASE("migrate brings a fresh database to schema_version", "[store]") {
  database db(":memory:");
  REQUIRE(user_version(db) == 0);
  cohort::store::migrate(db);
  CHECK(cohort::store::schema_version() >= 1);
  CHECK(user_version(db) == cohort::store::schema_version());
  for (const char* table : {"webinars", "sessions", "registrations"}) {
    INFO(table);
    auto st = db.prepare("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?");
    st.bind(1, table);
    REQUIRE(st.step());
    CHECK(st.int64(0) == 1);
  }
}

TEST_CASE("migrate is idempotent and keeps the data", "[store]") {
  database db(":memory:");
  cohort::store::migrate(db);
  db.exec("INSERT INTO webinars (title, created_at, updated_at) VALUES ('kept', 1, 1)");
  CHECK_NOTHROW(cohort::store::migrate(db));
  CHECK_NOTHROW(cohort::store::migrate(db));
  CHECK(user_version(db) == cohort::store::schema_version());
  CHECK(scalar(db, "SELECT count(*) FROM webinars WHERE title = 'kept'") == 1);
}

TEST_CASE("migrate refuses a database from a newer build and leaves it alone", "[store]") {
  database db(":memory:");
  const int newer = cohort::store::schema_version() + 1;
  db.exec("PRAGMA user_version = " + std::to_string(newer));
  try {
    cohort::store::migrate(db);
    FAIL("migrate accepted a newer schema");
  } catch (const std::runtime_error& e) {
    CHECK_THAT(e.what(), Catch::Matchers::Contains(std::to_string(newer)));
  }
  CHECK(user_version(db) == newer);
  CHECK(scalar(db, "SELECT count(*) FROM sqlite_master WHERE type = 'table'") == 0);
}

TEST_CASE("the schema allows one active signup per email and webinar", "[store]") {
  database db(":memory:");
  cohort::store::migrate(db);
  db.exec("INSERT INTO webinars (id, title, created_at, updated_at) VALUES (1, 'w', 1, 1)");
  auto insert = [&](const char* status) {
    db.prepare("INSERT INTO registrations (webinar_id, name, email, email_key, status, token_hash, created_at, updated_at)"
               " VALUES (1, 'n', 'A@x.org', 'a@x.org', ?, x'00', 1, 1)")
        .bind(1, status)
        .run();
  };
  insert("cancelled");
  insert("cancelled");
  insert("registered");
  try {
    insert("waitlisted");
    FAIL("a second active signup was accepted");
  } catch (const cohort::store::sqlite_error& e) {
    CHECK(e.extended_code() == SQLITE_CONSTRAINT_UNIQUE);
  }
  // an unknown status is refused too
  CHECK_THROWS_AS(
      db.exec("INSERT INTO registrations (webinar_id, name, email, email_key, status, token_hash, created_at, updated_at)"
              " VALUES (1, 'n', 'b@x.org', 'b@x.org', 'maybe', x'00', 1, 1)"),
      cohort::store::sqlite_error);
}

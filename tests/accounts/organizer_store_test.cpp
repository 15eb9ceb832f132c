#include "accounts/organizer_store.hpp"

#include "../store/temp_database_file.hpp"
#include "store/migrations.hpp"

#include <catch2/catch.hpp>

using namespace cohort::accounts;
using cohort::store::database;

namespace {

constexpr std::int64_t t0 = 1768471200;

struct fixture {
  cohort::test::temp_database_file file;
  database db{file.path()};
  fixture() { cohort::store::migrate(db); }
};

}  // namespace

TEST_CASE("organizers are added once per email, listed and removed", "[accounts]") {
  fixture f;
  const auto a = add_organizer(f.db, "Ana@Example.org", "ana@example.org", "hash-a", t0);
  CHECK(a.id > 0);
  CHECK_THROWS_AS(add_organizer(f.db, "ana@example.org", "ana@example.org", "hash-b", t0), duplicate_organizer);
  add_organizer(f.db, "ben@example.org", "ben@example.org", "hash-c", t0);
  const auto all = list_organizers(f.db);
  REQUIRE(all.size() == 2);
  CHECK(all[0].email == "Ana@Example.org");
  const auto login = find_login(f.db, "ana@example.org");
  REQUIRE(login);
  CHECK(login->password_hash == "hash-a");
  CHECK_FALSE(find_login(f.db, "nobody@example.org"));
  CHECK(remove_organizer(f.db, "ana@example.org"));
  CHECK_FALSE(remove_organizer(f.db, "ana@example.org"));
  CHECK(list_organizers(f.db).size() == 1);
}

TEST_CASE("a session is found until it expires, and ends on logout", "[accounts]") {
  fixture f;
  const auto a = add_organizer(f.db, "ana@example.org", "ana@example.org", "hash", t0);
  create_session(f.db, "h1", a.id, t0, t0 + 3600);
  const auto found = find_session(f.db, "h1", t0 + 3599);
  REQUIRE(found);
  CHECK(found->who.email == "ana@example.org");
  CHECK(found->expires_at == t0 + 3600);
  CHECK_FALSE(find_session(f.db, "h1", t0 + 3600));  // expired
  CHECK_FALSE(find_session(f.db, "unknown", t0));
  create_session(f.db, "h2", a.id, t0, t0 + 3600);
  delete_session(f.db, "h2");
  CHECK_FALSE(find_session(f.db, "h2", t0));
}

TEST_CASE("expired sessions are swept when a new one is made", "[accounts]") {
  fixture f;
  const auto a = add_organizer(f.db, "ana@example.org", "ana@example.org", "hash", t0);
  create_session(f.db, "old", a.id, t0, t0 + 60);
  create_session(f.db, "new", a.id, t0 + 120, t0 + 3600);
  auto st = f.db.prepare("SELECT count(*) FROM organizer_sessions");
  st.step();
  CHECK(st.int64(0) == 1);
}

TEST_CASE("a new password or a removed account ends the account's sessions", "[accounts]") {
  fixture f;
  const auto a = add_organizer(f.db, "ana@example.org", "ana@example.org", "hash", t0);
  create_session(f.db, "s1", a.id, t0, t0 + 3600);
  CHECK(set_password(f.db, "ana@example.org", "new-hash"));
  CHECK_FALSE(find_session(f.db, "s1", t0));
  CHECK(find_login(f.db, "ana@example.org")->password_hash == "new-hash");
  CHECK_FALSE(set_password(f.db, "nobody@example.org", "x"));
  create_session(f.db, "s2", a.id, t0, t0 + 3600);
  remove_organizer(f.db, "ana@example.org");
  CHECK_FALSE(find_session(f.db, "s2", t0));
}

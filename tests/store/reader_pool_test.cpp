#include "store/reader_pool.hpp"

#include "store/sqlite_writer.hpp"
#include "temp_database_file.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <future>

namespace {

using cohort::store::database;
using cohort::store::reader_pool;
using namespace std::chrono_literals;

database create_table(const std::string& path) {
  database db(path);
  db.exec("CREATE TABLE IF NOT EXISTS t (n INTEGER PRIMARY KEY)");
  return db;
}

std::int64_t count(database& db) {
  auto st = db.prepare("SELECT count(*) FROM t");
  REQUIRE(st.step());
  return st.int64(0);
}

}  // namespace

TEST_CASE("reader_pool lease hands its connection back when it goes out of scope", "[store]") {
  cohort::test::temp_database_file file;
  auto writer_db = create_table(file.path());
  reader_pool pool(file.path(), 1, 1000);

  database* first = nullptr;
  {
    auto lease = pool.acquire();
    first = &*lease;
  }
  auto again = pool.acquire();  // would block forever if the first lease had not returned it
  CHECK(&*again == first);
}

TEST_CASE("reader_pool acquire waits while every connection is leased", "[store]") {
  cohort::test::temp_database_file file;
  auto writer_db = create_table(file.path());
  reader_pool pool(file.path(), 1, 1000);

  std::future<void> waiter;
  {
    auto held = pool.acquire();
    auto moved = std::move(held);  // a moved-from lease must not give the connection back twice
    waiter = std::async(std::launch::async, [&pool] { auto lease = pool.acquire(); });
    CHECK(waiter.wait_for(50ms) == std::future_status::timeout);
  }
  CHECK(waiter.wait_for(5s) == std::future_status::ready);

  // After the move above the pool still holds exactly one connection: a second concurrent lease waits.
  auto one = pool.acquire();
  auto second = std::async(std::launch::async, [&pool] { auto lease = pool.acquire(); });
  CHECK(second.wait_for(50ms) == std::future_status::timeout);
  { auto release = std::move(one); }
  CHECK(second.wait_for(5s) == std::future_status::ready);
}

TEST_CASE("reader_pool hands out distinct connections at the same time", "[store]") {
  cohort::test::temp_database_file file;
  auto writer_db = create_table(file.path());
  reader_pool pool(file.path(), 3, 1000);
  auto a = pool.acquire();
  auto b = pool.acquire();
  auto c = pool.acquire();
  CHECK(&*a != &*b);
  CHECK(&*b != &*c);
  CHECK(&*a != &*c);
}

TEST_CASE("reader_pool reads see committed writes and only those", "[store]") {
  cohort::test::temp_database_file file;
  auto writer_db = create_table(file.path());
  reader_pool pool(file.path(), 2, 1000);

  {
    cohort::store::transaction tx(writer_db);
    writer_db.exec("INSERT INTO t VALUES (1)");
    auto lease = pool.acquire();
    CHECK(count(*lease) == 0);  // not committed yet
    tx.commit();
    CHECK(count(*lease) == 1);
  }

  // through the single writer: visible to a reader once the completion has run
  cohort::store::sqlite_writer writer(std::move(writer_db), {});
  std::promise<std::exception_ptr> done;
  REQUIRE(writer.submit([](database& db) { db.exec("INSERT INTO t VALUES (2)"); },
                        [&done](std::exception_ptr e) { done.set_value(e); }));
  CHECK_FALSE(done.get_future().get());
  auto lease = pool.acquire();
  CHECK(count(*lease) == 2);
}

TEST_CASE("reader_pool connections cannot write", "[store]") {
  cohort::test::temp_database_file file;
  auto writer_db = create_table(file.path());
  reader_pool pool(file.path(), 1, 1000);
  auto lease = pool.acquire();
  try {
    lease->exec("INSERT INTO t VALUES (1)");
    FAIL("a reader connection wrote");
  } catch (const cohort::store::sqlite_error& e) {
    CHECK(e.code() == SQLITE_READONLY);
  }
  CHECK(count(writer_db) == 0);
}

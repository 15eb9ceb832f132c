#include "store/sqlite_writer.hpp"

#include "common/storage_full.hpp"
#include "metrics/metrics.hpp"
#include "temp_database_file.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <future>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

namespace {

using cohort::store::database;
using cohort::store::sqlite_writer;

database open_table(const std::string& path) {
  database db(path);
  db.exec("CREATE TABLE IF NOT EXISTS t (n INTEGER PRIMARY KEY)");
  return db;
}

std::int64_t scalar(database& db, const std::string& sql) {
  auto st = db.prepare(sql);
  REQUIRE(st.step());
  return st.int64(0);
}

sqlite_writer::work insert(std::int64_t n) {
  return [n](database& db) { db.prepare("INSERT INTO t (n) VALUES (?)").bind(1, n).run(); };
}

// Holds the writer thread inside a job until released, so later submissions queue up and land in
// one batch. Releases on destruction too, so a failing REQUIRE cannot leave the writer stuck.
class writer_gate {
 public:
  void hold(sqlite_writer& writer) {
    auto wait_for = release_.get_future().share();
    auto entered = std::make_shared<std::promise<void>>();
    auto entered_future = entered->get_future();
    REQUIRE(writer.submit([entered, wait_for](database&) { entered->set_value(); wait_for.wait(); }, nullptr));
    entered_future.wait();  // the writer has taken the gate job: the queue is empty again
  }
  void release() {
    if (!released_) {
      released_ = true;
      release_.set_value();
    }
  }
  ~writer_gate() { release(); }

 private:
  std::promise<void> release_;
  bool released_ = false;
};

}  // namespace

TEST_CASE("sqlite_writer completes every write exactly once, after it is committed", "[store]") {
  cohort::test::temp_database_file file;
  constexpr int writes = 300;
  std::vector<std::atomic<int>> completions(writes);
  std::vector<std::atomic<bool>> visible_at_completion(writes);
  std::atomic<int> failures{0};
  // Completions run on the writer thread one after another, so they may share this connection.
  database observer = open_table(file.path());
  {
    sqlite_writer writer(open_table(file.path()), {});
    for (int i = 0; i < writes; ++i) {
      REQUIRE(writer.submit(insert(i), [&, i](std::exception_ptr e) {
        if (e) ++failures;
        ++completions[static_cast<std::size_t>(i)];
        // Another connection only sees committed data: the row must already be there.
        auto st = observer.prepare("SELECT count(*) FROM t WHERE n = ?");
        st.bind(1, i);
        st.step();
        visible_at_completion[static_cast<std::size_t>(i)] = st.int64(0) == 1;
      }));
    }
    writer.stop();
  }
  CHECK(failures == 0);
  for (int i = 0; i < writes; ++i) {
    INFO("write " << i);
    CHECK(completions[static_cast<std::size_t>(i)] == 1);
    CHECK(visible_at_completion[static_cast<std::size_t>(i)]);
  }
  database fresh(file.path());
  CHECK(scalar(fresh, "SELECT count(*) FROM t") == writes);
}

TEST_CASE("sqlite_writer rolls back a failing write alone, its batch neighbours commit", "[store]") {
  cohort::test::temp_database_file file;
  cohort::metrics::registry metrics;
  std::vector<std::exception_ptr> results(5);
  std::vector<int> completed(5, 0);
  {
    sqlite_writer writer(open_table(file.path()), {}, &metrics);
    writer_gate gate;
    gate.hold(writer);
    auto record = [&](std::size_t k) {
      return [&, k](std::exception_ptr e) {
        results[k] = e;
        ++completed[k];
      };
    };
    REQUIRE(writer.submit(insert(1), record(0)));
    REQUIRE(writer.submit(
        [](database& db) {
          insert(2)(db);
          throw std::runtime_error("refused by the handler");
        },
        record(1)));
    REQUIRE(writer.submit(insert(3), record(2)));
    REQUIRE(writer.submit(
        [](database& db) {
          insert(4)(db);
          insert(1)(db);  // duplicate key: SQLite refuses it
        },
        record(3)));
    REQUIRE(writer.submit(insert(5), record(4)));
    gate.release();
    writer.stop();
  }
  // The gate job was one batch; the five writes were the other.
  CHECK(metrics.sqlite_batch_size.count() == 2);
  CHECK(completed == std::vector<int>{1, 1, 1, 1, 1});
  CHECK_FALSE(results[0]);
  CHECK_FALSE(results[2]);
  CHECK_FALSE(results[4]);
  REQUIRE(results[1]);
  CHECK_THROWS_WITH(std::rethrow_exception(results[1]), "refused by the handler");
  REQUIRE(results[3]);
  try {
    std::rethrow_exception(results[3]);
  } catch (const cohort::store::sqlite_error& e) {
    CHECK(e.extended_code() == SQLITE_CONSTRAINT_PRIMARYKEY);
  } catch (...) {
    FAIL("expected the sqlite_error of the duplicate insert");
  }

  database fresh(file.path());
  std::set<std::int64_t> rows;
  auto st = fresh.prepare("SELECT n FROM t");
  while (st.step()) rows.insert(st.int64(0));
  CHECK(rows == std::set<std::int64_t>{1, 3, 5});  // 2 and 4 were undone with their writes
}

TEST_CASE("sqlite_writer group-commits concurrent writes into fewer transactions", "[store]") {
  cohort::test::temp_database_file file;
  cohort::metrics::registry metrics;
  constexpr int threads = 4, per_thread = 500, total = threads * per_thread;
  std::atomic<int> ok{0}, failed{0}, rejected{0};
  {
    sqlite_writer writer(open_table(file.path()), {}, &metrics);
    std::vector<std::thread> submitters;
    for (int t = 0; t < threads; ++t)
      submitters.emplace_back([&, t] {
        for (int i = 0; i < per_thread; ++i)
          if (!writer.submit(insert(t * per_thread + i), [&](std::exception_ptr e) { ++(e ? failed : ok); })) ++rejected;
      });
    for (auto& s : submitters) s.join();
    writer.stop();
  }
  CHECK(rejected == 0);
  CHECK(failed == 0);
  CHECK(ok == total);
  const auto batches = metrics.sqlite_batch_size.count();
  INFO(batches << " transactions for " << total << " writes");
  CHECK(batches >= 1);
  CHECK(batches < static_cast<std::uint64_t>(total));
  const std::string text = metrics.render();
  CHECK_THAT(text, Catch::Matchers::Contains("cohort_sqlite_commit_batch_size_sum " + std::to_string(total) + "\n"));
  CHECK_THAT(text, Catch::Matchers::Contains("cohort_sqlite_commit_batch_size_count " + std::to_string(batches) + "\n"));

  database fresh(file.path());
  CHECK(scalar(fresh, "SELECT count(*) FROM t") == total);
}

TEST_CASE("sqlite_writer never puts more than batch_max writes in one transaction", "[store]") {
  cohort::test::temp_database_file file;
  cohort::metrics::registry metrics;
  {
    sqlite_writer writer(open_table(file.path()), {10000, 64}, &metrics);
    writer_gate gate;
    gate.hold(writer);
    for (int i = 0; i < 200; ++i) REQUIRE(writer.submit(insert(i), nullptr));
    gate.release();
    writer.stop();
  }
  // gate + ceil(200 / 64) batches, none of them above the le="64" bucket
  CHECK(metrics.sqlite_batch_size.count() == 1 + 4);
  CHECK_THAT(metrics.render(), Catch::Matchers::Contains("cohort_sqlite_commit_batch_size_bucket{le=\"64\"} 5\n"));
  database fresh(file.path());
  CHECK(scalar(fresh, "SELECT count(*) FROM t") == 200);
}

TEST_CASE("sqlite_writer refuses writes beyond queue_max and counts them", "[store]") {
  cohort::test::temp_database_file file;
  cohort::metrics::registry metrics;
  std::atomic<int> completed{0};
  {
    sqlite_writer writer(open_table(file.path()), {3, 1000}, &metrics);
    writer_gate gate;
    gate.hold(writer);
    auto done = [&](std::exception_ptr e) { completed += e ? 100 : 1; };
    CHECK(writer.submit(insert(1), done));
    CHECK(writer.submit(insert(2), done));
    CHECK(writer.submit(insert(3), done));
    CHECK_FALSE(writer.submit(insert(4), done));
    CHECK_FALSE(writer.submit(insert(5), done));
    CHECK(metrics.sqlite_write_rejected.value() == 2);
    gate.release();
    writer.stop();
  }
  CHECK(completed == 3);  // the refused writes are never completed
  database fresh(file.path());
  CHECK(scalar(fresh, "SELECT count(*) FROM t") == 3);
  CHECK(scalar(fresh, "SELECT count(*) FROM t WHERE n >= 4") == 0);
}

TEST_CASE("sqlite_writer::stop drains what was queued, then refuses new writes", "[store]") {
  cohort::test::temp_database_file file;
  std::atomic<int> completed{0}, failed{0};
  int accepted = 0;
  {
    sqlite_writer writer(open_table(file.path()), {});
    auto done = [&](std::exception_ptr e) { ++(e ? failed : completed); };
    writer_gate gate;
    gate.hold(writer);
    for (int i = 0; i < 50; ++i) REQUIRE(writer.submit(insert(i), done));
    accepted = 50;
    std::thread stopper([&] { writer.stop(); });
    // Writes keep being accepted until stop() has begun; those must be drained as well.
    for (int i = 50; writer.submit(insert(i), done); ++i) {
      ++accepted;
      std::this_thread::yield();
    }
    gate.release();
    stopper.join();
    CHECK_FALSE(writer.submit(insert(100000), done));
    CHECK_NOTHROW(writer.stop());  // idempotent
  }
  CHECK(failed == 0);
  CHECK(completed == accepted);
  database fresh(file.path());
  CHECK(scalar(fresh, "SELECT count(*) FROM t") == accepted);
}

TEST_CASE("sqlite_writer answers a full disk with storage_full, undoes the write and keeps working when space returns", "[store]") {
  cohort::test::temp_database_file file;
  std::vector<std::exception_ptr> results(3);
  std::vector<int> completed(3, 0);
  std::exception_ptr after_space_returned;
  bool after_completed = false;
  auto big = [](std::int64_t n) {
    return [n](database& db) {
      const std::string blob(256 * 1024, 'x');
      db.prepare("INSERT INTO t (n) VALUES (?)").bind(1, n).run();
      db.prepare("INSERT INTO blobs (n, b) VALUES (?, ?)").bind(1, n).bind_blob(2, blob.data(), blob.size()).run();
    };
  };
  {
    database db = open_table(file.path());
    db.exec("CREATE TABLE blobs (n INTEGER, b BLOB)");
    // max_page_count stands in for a full file system: SQLite fails the page allocation with SQLITE_FULL.
    const auto pages = scalar(db, "PRAGMA page_count");
    db.exec("PRAGMA max_page_count = " + std::to_string(pages + 8));
    sqlite_writer writer(std::move(db), {});
    writer_gate gate;
    gate.hold(writer);
    auto record = [&](std::size_t k) {
      return [&, k](std::exception_ptr e) {
        results[k] = e;
        ++completed[k];
      };
    };
    REQUIRE(writer.submit(insert(1), record(0)));
    REQUIRE(writer.submit(big(2), record(1)));
    std::promise<void> batch_done;
    REQUIRE(writer.submit(insert(3), [&, r = record(2)](std::exception_ptr e) {
      r(e);
      batch_done.set_value();
    }));
    gate.release();
    batch_done.get_future().wait();
    // Space returns: the same writer, no restart.
    REQUIRE(writer.submit([](database& d) { d.exec("PRAGMA max_page_count = 1073741823"); }, nullptr));
    REQUIRE(writer.submit(big(4), [&](std::exception_ptr e) {
      after_space_returned = e;
      after_completed = true;
    }));
    writer.stop();
  }
  CHECK(completed == std::vector<int>{1, 1, 1});
  REQUIRE(results[1]);
  try {
    std::rethrow_exception(results[1]);
  } catch (const cohort::common::storage_full& e) {
    CHECK(e.code == "storage_full");
  } catch (const std::exception& e) {
    FAIL("expected common::storage_full, got: " << e.what());
  }
  // SQLite may undo the statement or the whole transaction: a neighbour either committed or was told
  // storage_full too; never a 500, never kept without its 201.
  database fresh(file.path());
  for (std::size_t k : {std::size_t{0}, std::size_t{2}}) {
    INFO("neighbour " << k);
    auto st = fresh.prepare("SELECT count(*) FROM t WHERE n = ?");
    st.bind(1, static_cast<std::int64_t>(k + 1));
    st.step();
    if (results[k]) {
      CHECK_THROWS_AS(std::rethrow_exception(results[k]), cohort::common::storage_full);
      CHECK(st.int64(0) == 0);
    } else {
      CHECK(st.int64(0) == 1);
    }
  }
  CHECK(scalar(fresh, "SELECT count(*) FROM t WHERE n = 2") == 0);  // nothing half-written
  CHECK(after_completed);
  CHECK_FALSE(after_space_returned);
  CHECK(scalar(fresh, "SELECT count(*) FROM blobs WHERE n = 4") == 1);
  CHECK(scalar(fresh, "SELECT count(*) FROM blobs WHERE n = 2") == 0);
}

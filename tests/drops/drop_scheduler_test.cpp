#include "drops/drop_scheduler.hpp"

#include "../store/migrated_file.hpp"
#include "../store/temp_database_file.hpp"
#include "common/rfc3339.hpp"
#include "live_room/room_bus.hpp"
#include "drops/drop_store.hpp"
#include "registration/webinar_store.hpp"
#include "store/reader_pool.hpp"
#include "store/sqlite_writer.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace {

namespace net = boost::asio;
namespace json = boost::json;
using namespace cohort::drops;
using cohort::store::database;
using clock_type = std::chrono::system_clock;
using namespace std::chrono_literals;

// A bus that records publish_state calls (the only thing the scheduler uses).
class recording_bus : public cohort::live_room::room_bus {
 public:
  struct published {
    std::int64_t webinar_id;
    std::string field;
    std::string frame;
    clock_type::time_point at;
  };

  void watch(std::int64_t, cohort::live_room::room_feed) override {}
  void unwatch(std::int64_t) override {}
  void publish(std::int64_t, std::string, std::string, cohort::live_room::flood_limit, std::function<void(cohort::live_room::published)> done) override {
    done({});
  }
  void publish_control(std::int64_t, std::string) override {}
  void publish_state(std::int64_t webinar_id, std::string field, std::string frame) override {
    {
      std::lock_guard lock(mutex_);
      log_.push_back(published{webinar_id, std::move(field), std::move(frame), clock_type::now()});
    }
    changed_.notify_all();
  }
  void watch_node(cohort::live_room::node_feed) override {}
  void revoke(std::string) override {}
  void count_presence(std::int64_t, std::size_t local, std::function<void(std::size_t)> done) override { done(local); }
  bool available() const override { return true; }

  // Waits until at least n calls were recorded; returns them all (maybe fewer on timeout).
  std::vector<published> wait_for(std::size_t n, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    changed_.wait_for(lock, timeout, [&] { return log_.size() >= n; });
    return log_;
  }
  std::vector<published> log() {
    std::lock_guard lock(mutex_);
    return log_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<published> log_;
};

clock_type::time_point at_second(std::int64_t unix) { return clock_type::time_point(std::chrono::seconds(unix)); }

// Sleeps (at most half a second) until the wall clock is in the first half of a second, so a
// drop due "next second" is at least half a second away.
void settle_into_second() {
  const auto now = clock_type::now().time_since_epoch();
  const auto into = now - std::chrono::duration_cast<std::chrono::seconds>(now);
  if (into >= 500ms) std::this_thread::sleep_for(1s - into + 10ms);
}

struct harness {
  cohort::test::temp_database_file file;
  cohort::store::sqlite_writer writer{cohort::test::open_migrated(file.path()), {}};
  cohort::store::reader_pool readers{file.path(), 2, 5000};
  recording_bus bus, bus2;
  net::io_context ioc;
  net::executor_work_guard<net::io_context::executor_type> guard = net::make_work_guard(ioc);
  std::thread runner{[this] { ioc.run(); }};
  std::vector<std::shared_ptr<drop_scheduler>> schedulers;
  std::int64_t webinar = 0;

  std::mutex released_mutex;
  std::vector<released_drop> released_hook;

  harness() {
    write([&](database& db) {
      cohort::registration::webinar_input in;
      in.title = "Series";
      in.description = "weekly";
      in.sessions.push_back({0, cohort::common::unix_now() + 86400, 60});
      webinar = cohort::registration::create_webinar(db, std::move(in), cohort::common::unix_now());
    });
  }

  ~harness() {
    for (auto& s : schedulers) s->stop();
    writer.stop();
    guard.reset();
    runner.join();
    schedulers.clear();
  }

  void write(cohort::store::sqlite_writer::work fn) { cohort::test::commit(writer, std::move(fn)); }

  std::int64_t insert_at(std::int64_t at, std::string title = "drop") {
    std::int64_t id = 0;
    write([&](database& db) {
      drop_input in;
      in.title = std::move(title);
      in.release.at = at;
      id = insert_drop(db, webinar, in, cohort::common::unix_now());
    });
    return id;
  }

  void move_to(std::int64_t id, std::int64_t at) {
    write([&](database& db) {
      drop_patch p;
      release_rule r;
      r.at = at;
      p.release = r;
      update_drop(db, webinar, id, p, cohort::common::unix_now());
    });
  }

  std::optional<std::int64_t> released_at(std::int64_t id) {
    auto db = readers.acquire();
    return load_drop(*db, webinar, id).released_at;
  }

  std::shared_ptr<drop_scheduler> make(recording_bus& on) {
    scheduler_context ctx;
    ctx.ioc = &ioc;
    ctx.writer = &writer;
    ctx.readers = &readers;
    ctx.bus = &on;
    ctx.in_release = [this](cohort::store::database&, const released_drop& d) {
      std::lock_guard lock(released_mutex);
      released_hook.push_back(d);
    };
    schedulers.push_back(std::make_shared<drop_scheduler>(std::move(ctx)));
    return schedulers.back();
  }

  std::vector<released_drop> hook_calls() {
    std::lock_guard lock(released_mutex);
    return released_hook;
  }
};

void check_publishes(const recording_bus::published& p, std::int64_t webinar, std::int64_t drop_id) {
  CHECK(p.webinar_id == webinar);
  CHECK(p.field == "drop:" + std::to_string(drop_id));
  const auto frame = json::parse(p.frame).as_object();
  CHECK(frame.at("type").as_string() == "x.drop");
  CHECK(frame.at("drop").at("id").to_number<std::int64_t>() == drop_id);
  CHECK(frame.at("to").is_null());
}

}  // namespace

TEST_CASE("scheduler: a drop due in a second is published once when due, not before", "[drops][scheduler]") {
  harness h;
  const auto due = cohort::common::unix_now() + 1;
  const auto id = h.insert_at(due);
  h.make(h.bus)->start();

  auto log = h.bus.wait_for(1, 3000ms);
  REQUIRE(log.size() == 1);
  check_publishes(log[0], h.webinar, id);
  CHECK(log[0].at >= at_second(due));
  CHECK(log[0].at < at_second(due) + 1500ms);
  CHECK(h.released_at(id) == due);

  // Exactly once: the scheduler re-arms after the release and finds nothing more.
  std::this_thread::sleep_for(200ms);
  CHECK(h.bus.log().size() == 1);
  const auto hooks = h.hook_calls();
  REQUIRE(hooks.size() == 1);
  CHECK(hooks[0].drop_id == id);
  CHECK(hooks[0].webinar_id == h.webinar);
  CHECK(hooks[0].frame == log[0].frame);
}

TEST_CASE("scheduler: a drop overdue at start is released at once", "[drops][scheduler]") {
  harness h;
  const auto id = h.insert_at(cohort::common::unix_now() - 120);
  const auto later = h.insert_at(cohort::common::unix_now() + 3600, "later");
  const auto started = clock_type::now();
  h.make(h.bus)->start();

  auto log = h.bus.wait_for(1, 3000ms);
  REQUIRE(log.size() == 1);
  check_publishes(log[0], h.webinar, id);
  CHECK(log[0].at - started < 1000ms);
  CHECK(h.released_at(id));
  CHECK_FALSE(h.released_at(later));
}

TEST_CASE("scheduler: rearm picks up a drop added after start", "[drops][scheduler]") {
  harness h;
  auto s = h.make(h.bus);
  s->start();  // nothing scheduled: the timer is armed for its maximum wait
  std::this_thread::sleep_for(100ms);
  CHECK(h.bus.log().empty());

  const auto due = cohort::common::unix_now() + 1;
  const auto id = h.insert_at(due);
  s->rearm();

  auto log = h.bus.wait_for(1, 3000ms);
  REQUIRE(log.size() == 1);
  check_publishes(log[0], h.webinar, id);
  CHECK(log[0].at >= at_second(due));
  CHECK(log[0].at < at_second(due) + 1500ms);
}

TEST_CASE("scheduler: a drop moved later before it is due is released at the new time", "[drops][scheduler]") {
  harness h;
  settle_into_second();
  const auto first_due = cohort::common::unix_now() + 1;
  const auto id = h.insert_at(first_due);
  auto s = h.make(h.bus);
  s->start();  // armed for first_due, at least half a second away
  const auto new_due = first_due + 1;
  h.move_to(id, new_due);
  s->rearm();

  auto log = h.bus.wait_for(1, 3000ms);
  REQUIRE(log.size() == 1);
  check_publishes(log[0], h.webinar, id);
  CHECK(log[0].at >= at_second(new_due));
  CHECK(log[0].at < at_second(new_due) + 1500ms);
  CHECK(h.released_at(id) == new_due);
}

TEST_CASE("scheduler: a drop released before a restart is not released again", "[drops][scheduler]") {
  harness h;
  const auto first = h.insert_at(cohort::common::unix_now() - 10, "first");
  auto a = h.make(h.bus);
  a->start();
  auto log = h.bus.wait_for(1, 3000ms);
  REQUIRE(log.size() == 1);
  check_publishes(log[0], h.webinar, first);
  a->stop();

  // A new scheduler on the same database (a restart) with one more overdue drop: it releases
  // and publishes only the new one.
  const auto second = h.insert_at(cohort::common::unix_now() - 5, "second");
  h.make(h.bus2)->start();
  auto log2 = h.bus2.wait_for(1, 3000ms);
  REQUIRE(log2.size() == 1);
  check_publishes(log2[0], h.webinar, second);
  std::this_thread::sleep_for(200ms);
  CHECK(h.bus2.log().size() == 1);
  CHECK(h.bus.log().size() == 1);
}

TEST_CASE("scheduler: two schedulers on one database release a drop once", "[drops][scheduler]") {
  harness h;
  const auto id = h.insert_at(cohort::common::unix_now() - 1);
  h.make(h.bus)->start();
  h.make(h.bus2)->start();
  // Whichever wins, exactly one publish in total.
  const auto deadline = clock_type::now() + 3s;
  while (h.bus.log().size() + h.bus2.log().size() < 1 && clock_type::now() < deadline) std::this_thread::sleep_for(10ms);
  std::this_thread::sleep_for(200ms);
  const auto a = h.bus.log(), b = h.bus2.log();
  REQUIRE(a.size() + b.size() == 1);
  check_publishes(a.empty() ? b[0] : a[0], h.webinar, id);
  CHECK(h.hook_calls().size() == 1);
}

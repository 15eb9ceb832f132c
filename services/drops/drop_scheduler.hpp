// The primary's release clock. One timer, armed for the earliest unreleased drop (at most a
// minute ahead, so a clock change or a missed wake-up costs at most a minute), re-armed
// whenever the schedule may have changed (drop created, edited, deleted; sessions moved).
// Releasing is a write in the single writer (release_due marks the drop released, once); the
// bus then carries the x.drop state frame to every node's room, which pushes it to the members
// it is for. A drop due while the server was down is released right after start.
#pragma once

#include "live_room/room_bus.hpp"
#include "drops/drop_store.hpp"
#include "store/reader_pool.hpp"
#include "store/sqlite_writer.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/system_timer.hpp>

#include <functional>
#include <memory>

namespace cohort::drops {

struct scheduler_context {
  boost::asio::io_context* ioc = nullptr;
  store::sqlite_writer* writer = nullptr;
  store::reader_pool* readers = nullptr;
  live_room::room_bus* bus = nullptr;
  int attended_min_minutes = 5;
  // Runs inside each release's transaction: the email outbox queues drop notices here.
  release_hook in_release;
};

class drop_scheduler : public std::enable_shared_from_this<drop_scheduler> {
 public:
  explicit drop_scheduler(scheduler_context ctx);
  // Releases what is overdue and arms the timer.
  void start();
  // The schedule may have changed; callable from any thread.
  void rearm();
  void stop();
  // Publishes drops another write released (a drop created or changed to be due now is
  // released by that same write, so its answer already says "released").
  void announce(std::vector<released_drop> drops);
  int attended_min_minutes() const { return ctx_.attended_min_minutes; }
  // In the writer: release_due with this schedule's attendance rule and release hook.
  std::vector<released_drop> release_in(store::database& db, std::int64_t now) const {
    return release_due(db, now, ctx_.attended_min_minutes, ctx_.in_release);
  }

 private:
  void do_arm();
  void do_release();
  void on_released(std::vector<released_drop> drops, bool failed);
  void publish(const released_drop& d);

  scheduler_context ctx_;
  boost::asio::strand<boost::asio::io_context::executor_type> strand_;
  boost::asio::system_timer timer_;
  bool releasing_ = false;  // a release is in the writer; it re-arms when done
  bool stopped_ = false;
};

}  // namespace cohort::drops

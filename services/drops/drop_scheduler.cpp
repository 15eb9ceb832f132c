#include "drops/drop_scheduler.hpp"

#include "common/describe.hpp"
#include "common/rfc3339.hpp"

#include <boost/asio/post.hpp>

#include <iostream>

namespace cohort::drops {
namespace net = boost::asio;

drop_scheduler::drop_scheduler(scheduler_context ctx)
    : ctx_(std::move(ctx)), strand_(net::make_strand(*ctx_.ioc)), timer_(strand_) {}

void drop_scheduler::start() { rearm(); }

void drop_scheduler::rearm() {
  net::post(strand_, [self = shared_from_this()] {
    if (!self->releasing_) self->do_arm();  // else the release re-arms when it is done
  });
}

void drop_scheduler::stop() {
  net::post(strand_, [self = shared_from_this()] {
    self->stopped_ = true;
    self->timer_.cancel();
  });
}

void drop_scheduler::do_arm() {
  if (stopped_) return;
  std::optional<std::int64_t> due;
  try {
    auto db = ctx_.readers->acquire();
    due = next_due(*db);
  } catch (const std::exception& e) {
    std::cerr << "cohort: drops: cannot read the schedule: " << e.what() << "\n";
  }
  const auto now = std::chrono::system_clock::now();
  auto at = now + std::chrono::minutes(1);
  if (due) at = std::min(at, std::chrono::system_clock::time_point(std::chrono::seconds(*due)));
  timer_.expires_at(at);
  timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
    if (!ec) self->do_release();
  });
}

void drop_scheduler::do_release() {
  if (stopped_) return;
  releasing_ = true;
  auto released = std::make_shared<std::vector<released_drop>>();
  const bool queued = ctx_.writer->submit(
      [released, self = shared_from_this()](store::database& db) { *released = self->release_in(db, common::unix_now()); },
      [self = shared_from_this(), released](std::exception_ptr ep) {
        if (ep) std::cerr << "cohort: drops: release failed, retrying in a second: " << common::describe(ep) << "\n";
        // A failed write may have filled `released` before its COMMIT failed (a full disk): nothing
        // of it was released, so nothing is announced; the retry releases it with its own time.
        if (ep) released->clear();
        net::post(self->strand_, [self, released, failed = ep != nullptr] { self->on_released(std::move(*released), failed); });
      });
  if (!queued) {
    std::cerr << "cohort: drops: write queue full, release retried in a second\n";
    on_released({}, true);
  }
}

void drop_scheduler::announce(std::vector<released_drop> drops) {
  net::post(strand_, [self = shared_from_this(), drops = std::move(drops)] {
    for (const auto& d : drops) self->publish(d);
  });
}

// Committed: the drop is released whatever happens next. The bus announces it; a node that
// misses the announcement still finds it in the state it loads (Redis, or the database).
void drop_scheduler::publish(const released_drop& d) {
  ctx_.bus->publish_state(d.webinar_id, "drop:" + std::to_string(d.drop_id), d.frame);
}

void drop_scheduler::on_released(std::vector<released_drop> drops, bool failed) {
  for (const auto& d : drops) publish(d);
  releasing_ = false;
  if (stopped_) return;
  if (!failed) return do_arm();
  // Not in a tight loop: the due drop is still due, so arming now would fire at once.
  timer_.expires_after(std::chrono::seconds(1));
  timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
    if (!ec) self->do_release();
  });
}

}  // namespace cohort::drops

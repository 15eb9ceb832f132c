// Bonus drops as a node module: the files, the release schedule (mailing each release's audience
// in its transaction) and the drop routes. It follows the registration events: a moved session
// moves its drops, and an edited series is warned of drops tied to a session it removed.
#pragma once

#include "drops/drop_scheduler.hpp"
#include "drops/drops_api.hpp"
#include "drops/file_store.hpp"
#include "email/mailer.hpp"
#include "node/module.hpp"
#include "node/node_services.hpp"

#include <memory>

namespace cohort::drops {

class drops_module : public node::module {
 public:
  drops_module(const node::node_services& node, const email::mailer& mail);
  void add_routes(http::router& r) override { api_.add_routes(r); }
  // Releases what fell due while the node was down, then follows the schedule.
  void start() override { scheduler_->start(); }

  // For the live room's channels: the released drops and seen markers of a webinar (x.drop,
  // x.seen state frames), and who was present in which minute (what attended/missed drops are
  // released by). Attendance writes that the queue cannot take are dropped with a log line: the
  // room never waits for the database.
  std::function<std::vector<std::string>(std::int64_t webinar_id)> room_state_loader() const;
  std::function<void(std::int64_t webinar_id, std::vector<std::int64_t> registration_ids, std::int64_t minute)> attendance_recorder() const;
  // A registrant watching the live stream counts as present this minute.
  std::function<void(std::int64_t webinar_id, std::int64_t registration_id)> watching_recorder() const;

 private:
  registration::write_path writes_;
  store::reader_pool* readers_;
  file_store files_;
  std::shared_ptr<drop_scheduler> scheduler_;
  drops_api api_;
};

}  // namespace cohort::drops

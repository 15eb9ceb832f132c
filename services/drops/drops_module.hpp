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

 private:
  file_store files_;
  std::shared_ptr<drop_scheduler> scheduler_;
  drops_api api_;
};

}  // namespace cohort::drops

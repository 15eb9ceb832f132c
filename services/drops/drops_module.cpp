#include "drops/drops_module.hpp"

#include "drops/drop_store.hpp"
#include "registration/rfc3339.hpp"

namespace cohort::drops {

drops_module::drops_module(const node::node_services& node, const email::mailer& mail)
    : files_(node.data_dir / "files"),
      scheduler_(std::make_shared<drop_scheduler>(scheduler_context{
          &node.ioc, node.writer, node.readers, &node.bus, node.cfg.attendance.min_minutes,
          [m = &mail](store::database& db, const released_drop& d) {
            m->drop_released(db, d.webinar_id, d.drop_id, d.title, d.body, d.audience, registration::unix_now());
          }})),
      api_({node.writes(), node.readers, node.authenticate, &node.bus, scheduler_, &files_}) {
  if (auto* events = node.registrations) {
    events->on<registration::series_changed>([s = scheduler_](const registration::series_changed&) { s->rearm(); });
    events->warnings_of = drop_warnings;
  }
}

}  // namespace cohort::drops

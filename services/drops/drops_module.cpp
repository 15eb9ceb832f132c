#include "drops/drops_module.hpp"

#include "drops/drop_store.hpp"
#include "common/rfc3339.hpp"

#include <iostream>

namespace cohort::drops {

drops_module::drops_module(const node::node_services& node, const email::mailer& mail)
    : writes_(node.writes()),
      readers_(node.readers),
      files_(node.data_dir / "files"),
      scheduler_(std::make_shared<drop_scheduler>(scheduler_context{
          &node.ioc, node.writer, node.readers, &node.bus, node.cfg.attendance.min_minutes,
          [m = &mail](store::database& db, const released_drop& d) {
            m->drop_released(db, d.webinar_id, d.drop_id, d.title, d.body, d.audience, common::unix_now());
          }})),
      api_({node.writes(), node.readers, node.authenticate, &node.bus, scheduler_, &files_}) {
  if (auto* events = node.registrations) {
    events->on<registration::series_changed>([s = scheduler_](const registration::series_changed&) { s->rearm(); });
    events->warnings_of = drop_warnings;
  }
}

std::function<std::vector<std::string>(std::int64_t)> drops_module::room_state_loader() const {
  return [readers = readers_](std::int64_t webinar) { return state_frames(*readers->acquire(), webinar); };
}

std::function<void(std::int64_t, std::vector<std::int64_t>, std::int64_t)> drops_module::attendance_recorder() const {
  return [writer = writes_.writer](std::int64_t webinar, std::vector<std::int64_t> ids, std::int64_t minute) {
    if (!writer->submit([webinar, ids = std::move(ids), minute](store::database& db) { record_attendance(db, webinar, ids, minute); }, nullptr))
      std::cerr << "cohort: attendance write dropped (queue full)\n";
  };
}

std::function<void(std::int64_t, std::int64_t)> drops_module::watching_recorder() const {
  return [record = attendance_recorder()](std::int64_t webinar, std::int64_t registration) {
    record(webinar, {registration}, common::unix_now() / 60);
  };
}

}  // namespace cohort::drops

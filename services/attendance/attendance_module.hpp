// Attendance as a node module: the organizer's attendance report (JSON and CSV), read-only.
#pragma once

#include "attendance/attendance_api.hpp"
#include "node/module.hpp"
#include "node/node_services.hpp"

namespace cohort::attendance {

class attendance_module : public node::module {
 public:
  explicit attendance_module(const node::node_services& node) : api_({node.readers, node.cfg.attendance.min_minutes}) {}
  void add_routes(http::router& r) override { api_.add_routes(r); }

 private:
  attendance_api api_;
};

}  // namespace cohort::attendance

// GET /api/webinars/{id}/attendance[.csv]?session=N: the organizer's attendance report (JSON
// for the console, CSV for continuing-education records). Read-only, from a reader connection.
#pragma once

#include "gateway/router.hpp"
#include "store/reader_pool.hpp"

namespace cohort::attendance {

struct attendance_context {
  store::reader_pool* readers = nullptr;
  int min_minutes = 5;  // attendance.min_minutes
};

class attendance_api {
 public:
  explicit attendance_api(attendance_context ctx) : ctx_(ctx) {}
  void add_routes(http::router& r);

 private:
  void report_json(http::request& req, http::responder& respond);
  void report_csv(http::request& req, http::responder& respond);

  attendance_context ctx_;
};

}  // namespace cohort::attendance

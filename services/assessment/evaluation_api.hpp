// The evaluation routes (proto/http-api.yaml): the organizer's items, summary and CSV; a
// registrant's evaluation for a session of their series (items and their submission, submit once).
#pragma once

#include "assessment/assessment_context.hpp"
#include "gateway/router.hpp"

namespace cohort::assessment {

class evaluation_api {
 public:
  explicit evaluation_api(assessment_context ctx) : ctx_(std::move(ctx)) {}
  void add_routes(http::router& r);

 private:
  void get_items(http::request& req, http::responder& respond);
  void put_items(http::request& req, http::responder& respond);
  void get_summary(http::request& req, http::responder& respond);
  void get_csv(http::request& req, http::responder& respond);
  void get_mine(http::request& req, http::responder& respond);
  void submit(http::request& req, http::responder& respond);

  assessment_context ctx_;
};

}  // namespace cohort::assessment

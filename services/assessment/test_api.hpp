// The post-test routes (proto/http-api.yaml): the organizer's question bank per session, and a
// registrant's test for a session of their series (state, start an attempt, submit it). Grading
// is on the server; no answer a registrant gets carries a correct set.
#pragma once

#include "assessment/assessment_context.hpp"
#include "gateway/router.hpp"

#include <random>

namespace cohort::assessment {

class test_api {
 public:
  explicit test_api(assessment_context ctx);
  void add_routes(http::router& r);

 private:
  void get_bank(http::request& req, http::responder& respond);
  void put_bank(http::request& req, http::responder& respond);
  void get_test(http::request& req, http::responder& respond);
  void start(http::request& req, http::responder& respond);
  void submit(http::request& req, http::responder& respond);

  assessment_context ctx_;
  std::mt19937_64 rng_;  // used on the writer thread only (inside start's write)
};

}  // namespace cohort::assessment

// The organizer's signup questions of a series: GET / PUT /api/webinars/{id}/questions
// {questions: [{key?, preset?, label, kind, options, required}]} (organizer only). PUT replaces
// the list (see save_questions: answers to questions kept survive). The public series JSON
// carries the same list (registration_api); signups answer it (read_answers).
#pragma once

#include "gateway/router.hpp"
#include "registration/api_support.hpp"
#include "store/reader_pool.hpp"

namespace cohort::registration {

class questions_api {
 public:
  questions_api(write_path writes, store::reader_pool* readers) : writes_(std::move(writes)), readers_(readers) {}
  void add_routes(http::router& r);

 private:
  void get(http::request& req, http::responder& respond);
  void put(http::request& req, http::responder& respond);

  write_path writes_;
  store::reader_pool* readers_;
};

}  // namespace cohort::registration

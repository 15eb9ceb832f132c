#include "registration/questions_api.hpp"

#include "common/errors.hpp"
#include "registration/question_store.hpp"
#include "registration/webinar_store.hpp"

#include <boost/json.hpp>

namespace cohort::registration {
namespace json = boost::json;
using http::response;

namespace {

json::object list_json(const std::vector<question>& questions) {
  return json::object{{"questions", questions_json(questions)}};
}

}  // namespace

void questions_api::add_routes(http::router& r) {
  using http::access;
  using http::verb;
  r.add(verb::get, "/api/webinars/{id}/questions", {access::organizer, false}, &questions_api::get, this);
  r.add(verb::put, "/api/webinars/{id}/questions", {access::organizer, true}, &questions_api::put, this);
}

void questions_api::get(http::request& req, http::responder& respond) {
  auto db = readers_->acquire();
  const auto id = req.id_param(0);
  if (!find_webinar(*db, id)) throw common::not_found("no webinar " + std::to_string(id));
  respond(response::json(200, list_json(questions_of(*db, id))));
}

void questions_api::put(http::request& req, http::responder& respond) {
  const auto it = req.json.find("questions");
  auto questions = read_questions(it == req.json.end() ? nullptr : &it->value());
  queue_write<std::vector<question>>(
      writes_, respond,
      [id = req.id_param(0), questions = std::move(questions)](store::database& db) { return save_questions(db, id, questions); },
      [](std::vector<question>& stored) { return response::json(200, list_json(stored)); });
}

}  // namespace cohort::registration

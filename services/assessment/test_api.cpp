#include "assessment/test_api.hpp"

#include "assessment/test_store.hpp"
#include "common/errors.hpp"
#include "common/rfc3339.hpp"

#include <boost/json.hpp>

namespace cohort::assessment {
namespace json = boost::json;
using common::unix_now;
using http::response;

namespace {

int session_of(const http::request& req, std::size_t i) {
  const auto n = req.id_param(i);
  if (n > 10000) throw common::not_found("no such session");
  return static_cast<int>(n);
}

json::value time_or_null(const std::optional<std::int64_t>& t) {
  return t ? json::value(common::format_rfc3339(*t)) : json::value(nullptr);
}

json::object attempt_json(const attempt& a, bool with_questions) {
  json::object o{{"id", a.id},
                 {"started_at", common::format_rfc3339(a.started_at)},
                 {"submitted_at", time_or_null(a.submitted_at)},
                 {"score_percent", a.score_percent ? json::value(*a.score_percent) : json::value(nullptr)},
                 {"passed", a.submitted_at ? json::value(a.passed) : json::value(nullptr)}};
  if (with_questions) o["questions"] = registrant_json(load_shown(a.shown));
  return o;
}

json::object attempts_count(std::size_t used, int max) {
  const auto u = static_cast<std::int64_t>(used);
  return {{"used", u}, {"max", max}, {"left", std::max<std::int64_t>(0, max - u)}};
}

json::object state_json(const test_state& t) {
  json::array history;
  for (const auto& a : t.attempts)
    if (a.submitted_at) history.push_back(attempt_json(a, false));
  const auto* open = t.open_attempt();
  return {{"session",
           json::object{{"number", t.session.number},
                        {"starts_at", common::format_rfc3339(t.session.starts_at)},
                        {"ends_at", common::format_rfc3339(t.session.ends_at())}}},
          {"state", t.closed ? t.closed->code : "open"},
          {"message", t.closed ? json::value(t.closed->message) : json::value(nullptr)},
          {"questions", t.questions},
          {"pass_percent", t.ce.pass_percent},
          {"attempts", attempts_count(t.attempts.size(), t.ce.attempts_max)},
          {"passed", t.passed},
          {"best_score", t.best_score ? json::value(*t.best_score) : json::value(nullptr)},
          {"open_attempt", open && !t.closed ? json::value(attempt_json(*open, true)) : json::value(nullptr)},
          {"history", std::move(history)}};
}

}  // namespace

test_api::test_api(assessment_context ctx) : ctx_(std::move(ctx)), rng_(std::random_device{}()) {}

void test_api::add_routes(http::router& r) {
  using http::access;
  using http::verb;
  r.add(verb::get, "/api/webinars/{id}/sessions/{session_id}/test", {access::organizer, false}, &test_api::get_bank, this);
  r.add(verb::put, "/api/webinars/{id}/sessions/{session_id}/test", {access::organizer, true}, &test_api::put_bank, this);
  r.add(verb::get, "/api/me/ce/{session_id}/test", {access::registrant, false}, &test_api::get_test, this);
  r.add(verb::post, "/api/me/ce/{session_id}/test/attempts", {access::registrant, false}, &test_api::start, this);
  r.add(verb::post, "/api/me/ce/{session_id}/test/attempts/{attempt_id}", {access::registrant, true}, &test_api::submit, this);
}

void test_api::get_bank(http::request& req, http::responder& respond) {
  const auto webinar_id = req.id_param(0);
  const auto session = session_of(req, 1);
  auto db = ctx_.readers->acquire();
  load_session(*db, webinar_id, session);
  json::array questions;
  for (const auto& q : load_bank(*db, webinar_id, session)) questions.push_back(organizer_json(q));
  respond(response::json(200, json::object{{"session_number", session}, {"questions", std::move(questions)}}));
}

void test_api::put_bank(http::request& req, http::responder& respond) {
  const auto webinar_id = req.id_param(0);
  const auto session = session_of(req, 1);
  auto bank = parse_bank(req.json);
  registration::queue_write<std::vector<question>>(
      ctx_.writes, respond,
      [webinar_id, session, bank = std::move(bank)](store::database& db) {
        replace_bank(db, webinar_id, session, bank);
        return load_bank(db, webinar_id, session);
      },
      [session](std::vector<question>& stored) {
        json::array questions;
        for (const auto& q : stored) questions.push_back(organizer_json(q));
        return response::json(200, json::object{{"session_number", session}, {"questions", std::move(questions)}});
      });
}

void test_api::get_test(http::request& req, http::responder& respond) {
  const auto session = session_of(req, 0);
  auto db = ctx_.readers->acquire();
  const auto webinar_id = seated_registration(*db, req.who.registration_id, req.who.token_nonce_hash);
  respond(response::json(200, state_json(load_test_state(*db, webinar_id, req.who.registration_id, session, unix_now()))));
}

void test_api::start(http::request& req, http::responder& respond) {
  const auto session = session_of(req, 0);
  const auto registration_id = req.who.registration_id;
  struct started {
    attempt row;
    bool created = false;
    json::object attempts;
  };
  registration::queue_write<started>(
      ctx_.writes, respond,
      [this, session, registration_id, nonce = req.who.token_nonce_hash](store::database& db) {
        const auto webinar_id = seated_registration(db, registration_id, nonce);
        auto [row, created] = start_attempt(db, webinar_id, registration_id, session, unix_now(), rng_);
        const auto used = list_attempts(db, webinar_id, registration_id, session).size();
        return started{std::move(row), created, attempts_count(used, load_settings(db, webinar_id).attempts_max)};
      },
      [](started& s) {
        auto o = attempt_json(s.row, true);
        o["attempts"] = std::move(s.attempts);
        return response::json(s.created ? 201 : 200, o);
      });
}

void test_api::submit(http::request& req, http::responder& respond) {
  const auto session = session_of(req, 0);
  const auto attempt_id = req.id_param(1);
  const auto registration_id = req.who.registration_id;
  struct submitted {
    graded_attempt graded;
    int pass_percent = 0;
    json::object attempts;
  };
  registration::queue_write<submitted>(
      ctx_.writes, respond,
      [ctx = ctx_, session, attempt_id, registration_id, nonce = req.who.token_nonce_hash, body = req.json](store::database& db) {
        const auto webinar_id = seated_registration(db, registration_id, nonce);
        const auto now = unix_now();
        auto graded = submit_attempt(db, webinar_id, registration_id, session, attempt_id, body, now);
        if (graded.row.passed) ctx.run_hooks(db, webinar_id, registration_id, session, now);
        const auto ce = load_settings(db, webinar_id);
        const auto used = list_attempts(db, webinar_id, registration_id, session).size();
        return submitted{std::move(graded), ce.pass_percent, attempts_count(used, ce.attempts_max)};
      },
      [](submitted& s) {
        auto o = attempt_json(s.graded.row, false);
        o["right"] = s.graded.result.right;
        o["total"] = s.graded.result.total;
        o["pass_percent"] = s.pass_percent;
        o["attempts"] = std::move(s.attempts);
        return response::json(200, o);
      });
}

}  // namespace cohort::assessment

#include "assessment/evaluation_api.hpp"

#include "assessment/ce_gate.hpp"
#include "assessment/evaluation_store.hpp"
#include "common/errors.hpp"
#include "common/rfc3339.hpp"
#include "registration/webinar_store.hpp"

#include <boost/json.hpp>

#include <charconv>

namespace cohort::assessment {
namespace json = boost::json;
using common::unix_now;
using http::api_error;
using http::response;

namespace {


void require_webinar(store::database& db, std::int64_t webinar_id) {
  if (!registration::find_webinar(db, webinar_id)) throw common::not_found("no webinar " + std::to_string(webinar_id));
}

json::object items_json(const std::vector<evaluation_item>& items) {
  json::array out;
  for (const auto& i : items) out.push_back(item_json(i));
  return {{"items", std::move(out)}};
}

// The registrant's view: the items asked after this session, whether it is open, what they sent.
json::object mine_json(store::database& db, std::int64_t webinar_id, std::int64_t registration_id, int session) {
  const auto s = load_session(db, webinar_id, session);
  const auto ce = load_settings(db, webinar_id);
  const auto items = load_items(db, webinar_id, session);
  const auto sent = find_submission(db, webinar_id, registration_id, session);
  auto closed = closed_for(db, ce, webinar_id, registration_id, s, unix_now(), "The evaluation", false);
  if (!closed && sent) closed = closed_reason{"submitted", "Thank you: your evaluation was received"};
  if (!closed && items.empty()) closed = closed_reason{"no_items", "This session has no evaluation"};
  json::value submission = nullptr;
  if (sent) submission = json::object{{"answers", sent->answers}, {"submitted_at", common::format_rfc3339(sent->submitted_at)}};
  auto out = items_json(items);
  out["session_number"] = session;
  out["state"] = closed ? closed->code : "open";
  out["message"] = closed ? json::value(closed->message) : json::value(nullptr);
  out["required"] = ce.evaluation_required;
  out["submission"] = std::move(submission);
  return out;
}

}  // namespace

void evaluation_api::add_routes(http::router& r) {
  using http::access;
  using http::verb;
  r.add(verb::get, "/api/webinars/{id}/evaluation", {access::organizer, false}, &evaluation_api::get_items, this);
  r.add(verb::put, "/api/webinars/{id}/evaluation", {access::organizer, true}, &evaluation_api::put_items, this);
  r.add(verb::get, "/api/webinars/{id}/evaluation/summary", {access::organizer, false}, &evaluation_api::get_summary, this);
  r.add(verb::get, "/api/webinars/{id}/evaluation.csv", {access::organizer, false}, &evaluation_api::get_csv, this);
  r.add(verb::get, "/api/me/ce/{session_id}/evaluation", {access::registrant, false}, &evaluation_api::get_mine, this);
  r.add(verb::post, "/api/me/ce/{session_id}/evaluation", {access::registrant, true}, &evaluation_api::submit, this);
}

void evaluation_api::get_items(http::request& req, http::responder& respond) {
  const auto webinar_id = req.id_param(0);
  auto db = ctx_.readers->acquire();
  require_webinar(*db, webinar_id);
  respond(response::json(200, items_json(load_items(*db, webinar_id))));
}

void evaluation_api::put_items(http::request& req, http::responder& respond) {
  const auto webinar_id = req.id_param(0);
  auto items = parse_items(req.json);
  registration::queue_write<std::vector<evaluation_item>>(
      ctx_.writes, respond,
      [webinar_id, items = std::move(items)](store::database& db) {
        require_webinar(db, webinar_id);
        replace_items(db, webinar_id, items);
        return load_items(db, webinar_id);
      },
      [](std::vector<evaluation_item>& stored) { return response::json(200, items_json(stored)); });
}

void evaluation_api::get_summary(http::request& req, http::responder& respond) {
  const auto webinar_id = req.id_param(0);
  const auto session = req.session_query(10000);
  auto db = ctx_.readers->acquire();
  require_webinar(*db, webinar_id);
  if (session) load_session(*db, webinar_id, *session);
  respond(response::json(200, summary(*db, webinar_id, session)));
}

void evaluation_api::get_csv(http::request& req, http::responder& respond) {
  const auto webinar_id = req.id_param(0);
  const auto session = req.session_query(10000);
  auto db = ctx_.readers->acquire();
  require_webinar(*db, webinar_id);
  if (session) load_session(*db, webinar_id, *session);
  auto res = response::text(200, summary_csv(*db, webinar_id, session), "text/csv; charset=utf-8");
  res.headers.emplace_back("Content-Disposition", "attachment; filename=\"webinar-" + std::to_string(webinar_id) +
                                                      (session ? "-session-" + std::to_string(*session) : std::string()) +
                                                      "-evaluation.csv\"");
  respond(std::move(res));
}

void evaluation_api::get_mine(http::request& req, http::responder& respond) {
  const auto session = static_cast<int>(std::min<std::int64_t>(req.id_param(0), 10001));
  auto db = ctx_.readers->acquire();
  const auto webinar_id = seated_registration(*db, req.who.registration_id, req.who.token_nonce_hash);
  respond(response::json(200, mine_json(*db, webinar_id, req.who.registration_id, session)));
}

void evaluation_api::submit(http::request& req, http::responder& respond) {
  const auto session = static_cast<int>(std::min<std::int64_t>(req.id_param(0), 10001));
  const auto registration_id = req.who.registration_id;
  registration::queue_write<json::object>(
      ctx_.writes, respond,
      [ctx = ctx_, session, registration_id, nonce = req.who.token_nonce_hash, body = req.json](store::database& db) {
        const auto webinar_id = seated_registration(db, registration_id, nonce);
        const auto now = unix_now();
        const auto s = load_session(db, webinar_id, session);
        require_open(db, load_settings(db, webinar_id), webinar_id, registration_id, s, now, "The evaluation", false);
        if (find_submission(db, webinar_id, registration_id, session))
          throw common::conflict("you already sent the evaluation for this session", "already_submitted");
        const auto items = load_items(db, webinar_id, session);
        if (items.empty()) throw common::conflict("this session has no evaluation", "no_items");
        insert_submission(db, webinar_id, registration_id, session, parse_submission(body, items), now);
        ctx.run_hooks(db, webinar_id, registration_id, session, now);
        return mine_json(db, webinar_id, registration_id, session);
      },
      [](json::object& mine) { return response::json(201, mine); });
}

}  // namespace cohort::assessment

#include "ce/ce_api.hpp"

#include "ce/ce_report.hpp"
#include "ce/ce_settings.hpp"
#include "ce/my_ce.hpp"
#include "common/describe.hpp"
#include "common/errors.hpp"
#include "common/rfc3339.hpp"
#include "registration/registration_store.hpp"

#include <boost/json.hpp>

#include <charconv>
#include <iostream>

namespace cohort::ce {
namespace json = boost::json;
using http::api_error;
using http::response;

namespace {


int session_segment(const std::string& text) {
  int n = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc{} || p != text.data() + text.size() || n < 1 || n > 1000)
    throw common::not_found("no session " + text);
  return n;
}

registration::webinar webinar_of(store::database& db, std::int64_t id) {
  auto w = registration::find_webinar(db, id);
  if (!w) throw common::not_found("no webinar " + std::to_string(id));
  return std::move(*w);
}

}  // namespace

void ce_api::add_routes(http::router& r) {
  using http::access;
  using http::verb;
  r.add(verb::get, "/api/webinars/{id}/ce", {access::organizer, false}, &ce_api::get_settings, this);
  r.add(verb::put, "/api/webinars/{id}/ce", {access::organizer, true}, &ce_api::put_settings, this);
  r.add(verb::get, "/api/webinars/{id}/ce/summary", {access::anyone, false}, &ce_api::summary, this);
  r.add(verb::get, "/api/webinars/{id}/ce/report", {access::organizer, false}, &ce_api::report_json, this);
  r.add(verb::get, "/api/webinars/{id}/ce/report.csv", {access::organizer, false}, &ce_api::report_csv, this);
  r.add(verb::get, "/api/me/ce", {access::registrant, false}, &ce_api::my_ce, this);
  r.add(verb::post, "/api/me/ce/{session}/attest", {access::registrant, false}, &ce_api::attest, this);
}

void ce_api::get_settings(http::request& req, http::responder& respond) {
  auto db = ctx_.readers->acquire();
  const auto w = webinar_of(*db, req.id_param(0));
  respond(response::json(200, settings_json(load_settings(*db, w.id), w)));
}

void ce_api::put_settings(http::request& req, http::responder& respond) {
  const auto webinar_id = req.id_param(0);
  // Validated in the write: the session numbers are checked against the sessions as committed.
  registration::queue_write<json::object>(
      ctx_.writes, respond,
      [webinar_id, body = std::move(req.json)](store::database& db) {
        const auto w = webinar_of(db, webinar_id);
        save_settings(db, webinar_id, parse_settings(body, w.sessions), common::unix_now());
        return settings_json(load_settings(db, webinar_id), w);
      },
      [](json::object& doc) { return response::json(200, doc); });
}

void ce_api::summary(http::request& req, http::responder& respond) {
  auto db = ctx_.readers->acquire();
  const auto w = webinar_of(*db, req.id_param(0));
  auto res = response::json(200, summary_json(load_settings(*db, w.id), w));
  res.headers.emplace_back("Cache-Control", "no-cache");
  respond(std::move(res));
}

void ce_api::report_json(http::request& req, http::responder& respond) {
  const int session = req.session_query().value_or(0);
  auto db = ctx_.readers->acquire();
  respond(response::json(200, ce::report_json(build_report(*db, req.id_param(0), session, common::unix_now()))));
}

void ce_api::report_csv(http::request& req, http::responder& respond) {
  const int session = req.session_query().value_or(0);
  auto db = ctx_.readers->acquire();
  const auto r = build_report(*db, req.id_param(0), session, common::unix_now());
  auto res = response::text(200, ce::report_csv(r), "text/csv; charset=utf-8");
  const auto scope = session == 0 ? std::string("series") : "session-" + std::to_string(session);
  res.headers.emplace_back("Content-Disposition",
                           "attachment; filename=\"webinar-" + std::to_string(r.webinar_id) + "-" + scope + "-ce.csv\"");
  respond(std::move(res));
}

void ce_api::my_ce(http::request& req, http::responder& respond) {
  const auto who = req.who;
  auto db = ctx_.readers->acquire();
  registration::active_registration(*db, who.registration_id, who.token_nonce_hash);
  auto out = build_my_ce(*db, who.webinar_id, who.registration_id, common::unix_now());
  settle_later(who.webinar_id, who.registration_id, out.to_settle);
  respond(response::json(200, out.body));
}

void ce_api::attest(http::request& req, http::responder& respond) {
  const auto who = req.who;
  const int session = session_segment(req.params.at(0));
  registration::queue_write<json::object>(
      ctx_.writes, respond,
      [who, session, hooks = ctx_.hooks](store::database& db) {
        registration::active_registration(db, who.registration_id, who.token_nonce_hash);
        const auto now = common::unix_now();
        const auto before = load_standing(db, who.webinar_id, who.registration_id, session, now);
        if (!before.ce.offered) throw common::conflict("this series offers no CE credit", "ce_not_offered");
        if (before.ce.attestation.empty()) throw common::conflict("this series asks for no attestation", "no_attestation");
        if (now < before.slot.ends_at()) throw common::conflict("the attestation can be ticked once the session has ended", "session_not_ended");
        auto st = db.prepare(
            "INSERT OR IGNORE INTO ce_attestations (webinar_id, registration_id, session_number, attested_at) VALUES (?, ?, ?, ?)");
        st.bind(1, who.webinar_id).bind(2, who.registration_id).bind(3, session).bind(4, now).run();
        settle(db, *hooks, who.webinar_id, who.registration_id, session, now);
        const auto s = load_standing(db, who.webinar_id, who.registration_id, session, now);
        return session_json(s.ce, who.webinar_id, s.slot, s.facts, s.where, s.certificate);
      },
      [](json::object& doc) { return response::json(200, doc); });
}

void ce_api::settle_later(std::int64_t webinar_id, std::int64_t registration_id, const std::vector<int>& sessions) const {
  if (sessions.empty() || ctx_.hooks->empty()) return;
  const bool queued = ctx_.writes.writer->submit(
      [hooks = ctx_.hooks, webinar_id, registration_id, sessions](store::database& db) {
        for (const int n : sessions) settle(db, *hooks, webinar_id, registration_id, n, common::unix_now());
      },
      [](std::exception_ptr ep) {
        if (ep) std::cerr << "cohort: ce settle failed: " << common::describe(ep) << "\n";
      });
  if (!queued) std::cerr << "cohort: ce settle skipped (write queue full); the next look at My CE tries again\n";
}

}  // namespace cohort::ce

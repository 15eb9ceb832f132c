#include "privacy/privacy_api.hpp"

#include "common/errors.hpp"
#include "common/rfc3339.hpp"
#include "privacy/privacy_erasure.hpp"
#include "privacy/privacy_export.hpp"
#include "privacy/privacy_notice.hpp"
#include "registration/registration_store.hpp"

#include <boost/json.hpp>

#include <iostream>

namespace cohort::privacy {
namespace json = boost::json;
using http::api_error;
using http::response;

namespace {

response attachment(std::int64_t registration_id, const json::object& doc) {
  auto res = response::json(200, doc);
  res.headers.emplace_back("Content-Disposition",
                           "attachment; filename=\"cohort-registration-" + std::to_string(registration_id) + ".json\"");
  res.headers.emplace_back("Cache-Control", "no-store");
  return res;
}

json::object erasure_json(const erasure& e) {
  return {{"registration_id", e.registration_id},
          {"webinar_id", e.webinar_id},
          {"name", erased_name},
          {"status", "cancelled"},
          {"erased_at", common::format_rfc3339(e.erased_at)}};
}

}  // namespace

void privacy_api::add_routes(http::router& r) {
  using http::access;
  using http::verb;
  r.add(verb::get, "/api/me/export", {access::registrant, false}, &privacy_api::export_me, this);
  r.add(verb::post, "/api/me/erase", {access::registrant, true}, &privacy_api::erase_me, this);
  r.add(verb::get, "/api/webinars/{id}/registrations/{registration_id}/export", {access::organizer, false},
        &privacy_api::export_for, this);
  r.add(verb::post, "/api/webinars/{id}/registrations/{registration_id}/erase", {access::organizer, false},
        &privacy_api::erase_for, this);
  r.add(verb::get, "/api/webinars/{id}/privacy-notice", {}, &privacy_api::get_notice, this);
  r.add(verb::put, "/api/webinars/{id}/privacy-notice", {access::organizer, true}, &privacy_api::put_notice, this);
}

void privacy_api::tell(const erasure& e, bool quiet) const {
  if (e.already) return;
  if (ctx_.events) {
    if (e.was_active) ctx_.events->emit(registration::cancelled{e.webinar_id, e.registration_id, e.token_nonce_hash});
    if (!e.seated.empty()) {
      ctx_.events->emit(registration::seated{e.seated});
      if (ctx_.events->mail.queued) ctx_.events->mail.queued();
    }
  }
  if (!quiet)
    std::cout << "cohort: privacy: erased registration " << e.registration_id << " of series " << e.webinar_id << "\n" << std::flush;
}

void privacy_api::export_me(http::request& req, http::responder& respond) {
  auto db = ctx_.readers->acquire();
  if (!registration::find_by_token(*db, req.who.registration_id, req.who.token_nonce_hash))
    throw api_error(401, "unauthorized", "this registration no longer exists");
  respond(attachment(req.who.registration_id, export_registration(*db, 0, req.who.registration_id, common::unix_now())));
}

void privacy_api::export_for(http::request& req, http::responder& respond) {
  auto db = ctx_.readers->acquire();
  const auto id = req.id_param(1);
  respond(attachment(id, export_registration(*db, req.id_param(0), id, common::unix_now())));
}

void privacy_api::erase_me(http::request& req, http::responder& respond) {
  const auto* confirm = req.json.if_contains("confirm");
  if (!confirm || !confirm->is_string() || confirm->as_string() != "erase")
    throw common::invalid("confirm", "send {\"confirm\": \"erase\"} to erase your data: it cannot be undone");
  const auto* mail = ctx_.events ? &ctx_.events->mail : nullptr;
  registration::queue_write<erasure>(
      ctx_.writes, respond,
      [who = req.who, mail](store::database& db) {
        // The token's own row, erased or not, so a repeat learns that it is done (410), not just 401.
        auto st = db.prepare("SELECT erased_at FROM registrations WHERE id = ? AND token_hash = ?");
        st.bind(1, who.registration_id).bind_blob(2, who.token_nonce_hash.data(), who.token_nonce_hash.size());
        if (!st.step()) throw common::unauthorized("this registration no longer exists");
        if (!st.is_null(0)) throw common::gone("this registration's personal data was already erased", "erased");
        return erase_registration(db, 0, who.registration_id, reason::registrant, common::unix_now(), mail);
      },
      [this](erasure& e) {
        tell(e);
        return response::json(200, erasure_json(e));
      });
}

void privacy_api::erase_for(http::request& req, http::responder& respond) {
  const auto* mail = ctx_.events ? &ctx_.events->mail : nullptr;
  registration::queue_write<erasure>(
      ctx_.writes, respond,
      [webinar = req.id_param(0), id = req.id_param(1), mail](store::database& db) {
        return erase_registration(db, webinar, id, reason::organizer, common::unix_now(), mail);
      },
      [this](erasure& e) {
        tell(e);
        return response::json(200, erasure_json(e));
      });
}

void privacy_api::get_notice(http::request& req, http::responder& respond) {
  auto db = ctx_.readers->acquire();
  const auto n = read_notice(*db, req.id_param(0), ctx_.privacy.retention_days, ctx_.ce.records_years);
  respond(response::json(200, json::object{{"webinar_id", req.id_param(0)}, {"text", n.text}, {"custom", n.custom}}));
}

void privacy_api::put_notice(http::request& req, http::responder& respond) {
  const auto* text = req.json.if_contains("text");
  if (!text || !text->is_string()) throw common::invalid("text", "text must be a string ('' = the default notice)");
  registration::queue_write<notice>(
      ctx_.writes, respond,
      [webinar = req.id_param(0), raw = std::string(text->as_string()), days = ctx_.privacy.retention_days,
       years = ctx_.ce.records_years](store::database& db) {
        write_notice(db, webinar, raw);
        return read_notice(db, webinar, days, years);
      },
      [webinar = req.id_param(0)](notice& n) {
        return response::json(200, json::object{{"webinar_id", webinar}, {"text", n.text}, {"custom", n.custom}});
      });
}

}  // namespace cohort::privacy

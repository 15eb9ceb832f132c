#include "email/email_api.hpp"

#include "common/errors.hpp"
#include "common/rfc3339.hpp"
#include "email/outbox_store.hpp"
#include "registration/registration_store.hpp"

#include <boost/json.hpp>

#include <charconv>

namespace cohort::email {
namespace json = boost::json;
using http::api_error;
using http::response;
using common::format_rfc3339;

namespace {

json::value time_or_null(const std::optional<std::int64_t>& t) {
  return t ? json::value(format_rfc3339(*t)) : json::value(nullptr);
}

json::object preferences_json(store::database& db, std::int64_t registration_id) {
  return {{"unsubscribed", is_unsubscribed(db, registration_id)}, {"drop_notices", wants_drop_notices(db, registration_id)}};
}

}  // namespace

void email_api::add_routes(http::router& r) {
  using http::access;
  using http::verb;
  r.add(verb::post, "/api/unsubscribe", {access::anyone, false}, &email_api::unsubscribe, this);
  r.add(verb::get, "/api/me/email", {access::registrant, false}, &email_api::get_preferences, this);
  r.add(verb::put, "/api/me/email", {access::registrant, true}, &email_api::put_preferences, this);
  r.add(verb::get, "/api/webinars/{id}/emails", {access::organizer, false}, &email_api::list, this);
  r.add(verb::get, "/api/emails/{email_id}/message", {access::organizer, false}, &email_api::message, this);
}

// A mail client posts "List-Unsubscribe=One-Click" here; the page /unsubscribe posts with no
// body. Either way the signed registration id is the whole authority.
void email_api::unsubscribe(http::request& req, http::responder& respond) {
  const auto* r = req.query_param("r");
  const auto* sig = req.query_param("sig");
  std::int64_t id = 0;
  if (r) {
    auto [p, ec] = std::from_chars(r->data(), r->data() + r->size(), id);
    if (ec != std::errc{} || p != r->data() + r->size()) id = 0;
  }
  if (id <= 0 || !sig || !ctx_.mail || !ctx_.mail->unsubscribe_signature_ok(id, *sig))
    throw api_error(403, "forbidden", "this unsubscribe link is not valid (copy the whole link from the email)");
  registration::queue_write<json::object>(
      ctx_.writes, respond,
      [id](store::database& db) {
        auto exists = db.prepare("SELECT 1 FROM registrations WHERE id = ?");
        exists.bind(1, id);
        if (!exists.step()) throw common::not_found("this registration no longer exists");
        email::unsubscribe(db, id, common::unix_now());
        return preferences_json(db, id);
      },
      [](json::object& prefs) { return response::json(200, prefs); });
}

// Like every registrant route: the token's nonce must match its registration, which must not
// be cancelled (a signed token alone outlives both).
void email_api::get_preferences(http::request& req, http::responder& respond) {
  auto db = ctx_.readers->acquire();
  registration::active_registration(*db, req.who.registration_id, req.who.token_nonce_hash);
  respond(response::json(200, preferences_json(*db, req.who.registration_id)));
}

void email_api::put_preferences(http::request& req, http::responder& respond) {
  const auto* v = req.json.if_contains("drop_notices");
  if (!v || !v->is_bool()) throw common::invalid("drop_notices", "drop_notices must be true or false");
  registration::queue_write<json::object>(
      ctx_.writes, respond,
      [id = req.who.registration_id, nonce_hash = req.who.token_nonce_hash, on = v->get_bool()](store::database& db) {
        registration::active_registration(db, id, nonce_hash);
        set_drop_notices(db, id, on, common::unix_now());
        return preferences_json(db, id);
      },
      [](json::object& prefs) { return response::json(200, prefs); });
}

void email_api::list(http::request& req, http::responder& respond) {
  auto db = ctx_.readers->acquire();
  const auto webinar_id = req.id_param(0);
  // One snapshot for the rows and the counts, so the summary matches the table.
  store::transaction snapshot(*db, "BEGIN");
  json::array items;
  for (const auto& e : list_outbox(*db, webinar_id))
    items.push_back(json::object{{"id", e.id},
                                 {"kind", e.kind},
                                 {"to", e.to_addr},
                                 {"subject", e.subject},
                                 {"state", to_string(e.state)},
                                 {"attempts", e.attempts},
                                 {"last_error", e.last_error ? json::value(*e.last_error) : json::value(nullptr)},
                                 {"next_attempt_at", e.state == outbox_state::queued ? json::value(format_rfc3339(e.next_attempt_at))
                                                                                       : json::value(nullptr)},
                                 {"created_at", format_rfc3339(e.created_at)},
                                 {"sent_at", time_or_null(e.sent_at)},
                                 {"registration_id", e.registration_id ? json::value(*e.registration_id) : json::value(nullptr)}});
  const auto counts = count_by_state(*db, webinar_id);
  respond(response::json(200, json::object{{"transport", ctx_.transport},
                                           {"outbox_dir", ctx_.transport == "files" ? json::value(ctx_.outbox_dir) : json::value(nullptr)},
                                           {"counts", json::object{{"queued", counts.queued}, {"sent", counts.sent}, {"failed", counts.failed}}},
                                           {"emails", std::move(items)}}));
}

// The message as it is (or was) sent, for the organizer to read — composed again with the
// registrant's secrets (join link token, unsubscribe signature) redacted: the organizer has
// other ways into the room, and a console screen or a pasted source must not hand out a seat.
// Rows from before composition moved to the sender keep their stored bytes; they are not shown.
void email_api::message(http::request& req, http::responder& respond) {
  auto db = ctx_.readers->acquire();
  const auto entry = find_entry(*db, req.id_param(0));
  if (!entry) throw common::not_found("no email " + std::to_string(req.id_param(0)));
  if (!entry->mime.empty() || !ctx_.mail)
    throw api_error(409, "conflict", "this email was stored before its links could be redacted, and is not shown");
  try {
    respond(response::text(200, ctx_.mail->compose(*db, *entry, common::unix_now(), true).mime, "text/plain; charset=utf-8"));
  } catch (const std::runtime_error& e) {
    throw api_error(409, "conflict", std::string("this email cannot be shown: ") + e.what());
  }
}

}  // namespace cohort::email

#include "chat/chat_hub.hpp"

#include "chat/chat_client.hpp"
#include "chat/chat_store.hpp"
#include "common/errors.hpp"
#include "metrics/metrics.hpp"
#include "common/csv.hpp"
#include "registration/registration_store.hpp"
#include "common/rfc3339.hpp"
#include "registration/validation.hpp"
#include "registration/webinar_store.hpp"

#include <boost/asio/post.hpp>
#include <boost/json.hpp>

#include <charconv>
#include <iostream>

namespace cohort::chat {
namespace json = boost::json;
using http::api_error;
using http::response;

namespace {

std::optional<std::int64_t> parse_int(const std::string* text) {
  if (!text) return std::nullopt;
  std::int64_t v = 0;
  auto [p, ec] = std::from_chars(text->data(), text->data() + text->size(), v);
  if (ec != std::errc{} || p != text->data() + text->size() || v < 0) throw api_error(400, "bad_request", "expected a non-negative integer");
  return v;
}


}  // namespace

// Who the rooms reported present, per webinar: registration id -> when the last report came.
struct chat_hub::presence_log {
  static constexpr std::chrono::minutes keep{5};
  mutable std::mutex m;
  std::map<std::int64_t, std::map<std::int64_t, std::chrono::steady_clock::time_point>> seen;

  void note(std::int64_t webinar_id, const std::vector<std::int64_t>& ids) {
    const auto now = std::chrono::steady_clock::now();
    std::lock_guard lock(m);
    auto& w = seen[webinar_id];
    std::erase_if(w, [cutoff = now - keep](const auto& kv) { return kv.second < cutoff; });
    for (const auto id : ids) w[id] = now;
  }
};

chat_hub::chat_hub(hub_context ctx)
    : ctx_(std::move(ctx)),
      presence_(std::make_shared<presence_log>()),
      sockets_(std::make_shared<socket_quota>(ctx_.sockets_per_token)) {
  // The primary's rooms hand every node's presence reports to the attendance writer; keep a
  // copy of who was seen when, for the live stream's viewer count.
  if (auto write = std::move(ctx_.records.attendance)) {
    ctx_.records.attendance = [write = std::move(write), log = presence_](std::int64_t webinar_id, std::vector<std::int64_t> ids,
                                                                          std::int64_t minute) {
      log->note(webinar_id, ids);
      write(webinar_id, std::move(ids), minute);
    };
  }
}

std::vector<std::int64_t> chat_hub::recently_present(std::int64_t webinar_id, std::chrono::seconds window) const {
  const auto cutoff = std::chrono::steady_clock::now() - window;
  std::vector<std::int64_t> out;
  std::lock_guard lock(presence_->m);
  if (const auto w = presence_->seen.find(webinar_id); w != presence_->seen.end())
    for (const auto& [id, at] : w->second)
      if (at >= cutoff) out.push_back(id);
  return out;
}

bool chat_hub::origin_allowed(const std::string& origin) const {
  if (origin.empty()) return true;  // not a browser: nothing to protect against cross-site use
  for (const auto& allowed : ctx_.allowed_origins)
    if (origin == allowed) return true;
  return false;
}

void chat_hub::revoked(std::vector<std::string> entries, bool complete) {
  {
    std::lock_guard lock(revoked_mutex_);
    // Never replaced: a Redis that came back empty holds less than this node knew.
    revoked_.add(std::move(entries));
    if (complete) revoked_.set_trusted(true);
  }
  if (ctx_.edge) recheck_open_sockets();
}

void chat_hub::revocations_unconfirmed() {
  std::lock_guard lock(revoked_mutex_);
  if (revoked_.trusted()) std::cerr << "cohort: revocation list not confirmed by the primary: refusing new chat sockets until it is\n";
  revoked_.set_trusted(false);
}

bool chat_hub::revocations_confirmed() const {
  if (!ctx_.edge) return true;
  std::lock_guard lock(revoked_mutex_);
  return revoked_.trusted();
}

void chat_hub::recheck_open_sockets() {
  {
    std::lock_guard lock(revoked_mutex_);
    if (recheck_pending_) return;  // a re-publish sends entries one by one: one pass for the lot
    recheck_pending_ = true;
  }
  boost::asio::post(*ctx_.ioc, [this] {
    std::vector<std::pair<std::int64_t, std::shared_ptr<chat_room>>> rooms;
    {
      std::lock_guard lock(rooms_mutex_);
      rooms.assign(rooms_.begin(), rooms_.end());
    }
    auto snapshot = std::make_shared<revocation_list>();
    {
      std::lock_guard lock(revoked_mutex_);
      recheck_pending_ = false;
      *snapshot = revoked_;
    }
    for (const auto& [webinar, r] : rooms)
      r->recheck([snapshot, webinar = webinar](const chat_identity& who) -> std::optional<std::pair<std::uint16_t, std::string>> {
        if (auto why = snapshot->refuses(webinar, who.id, who.token_nonce_hash)) return std::make_pair(why->close_code, why->message);
        return std::nullopt;
      });
  });
}

void chat_hub::registration_cancelled(std::int64_t webinar_id, std::int64_t registration_id, std::string_view token_nonce_hash) {
  ctx_.bus->revoke(token_entry(token_nonce_hash));
  room(webinar_id)->cancelled(registration_id);
}

void chat_hub::registration_waitlisted(std::string_view token_nonce_hash) { ctx_.bus->revoke(waitlist_entry(token_nonce_hash)); }

void chat_hub::registrations_seated(const std::vector<std::string>& token_nonce_hashes) {
  for (const auto& hash : token_nonce_hashes) ctx_.bus->revoke(seated_entry(hash));
}

void chat_hub::webinar_deleted(std::int64_t webinar_id) {
  ctx_.bus->revoke(deleted_entry(webinar_id));
  // The primary hosts every room in use on any node: none here means none anywhere.
  std::shared_ptr<chat_room> r;
  {
    std::lock_guard lock(rooms_mutex_);
    if (auto it = rooms_.find(webinar_id); it != rooms_.end()) r = it->second;
  }
  if (r) r->series_deleted();
  ctx_.bus->forget(webinar_id);
}

std::shared_ptr<chat_room> chat_hub::room(std::int64_t webinar_id) {
  std::lock_guard lock(rooms_mutex_);
  auto& slot = rooms_[webinar_id];
  if (!slot) {
    slot = std::make_shared<chat_room>(*ctx_.ioc, webinar_id, ctx_.rooms, *ctx_.bus, ctx_.metrics, ctx_.records);
    slot->start();
  }
  return slot;
}

std::pair<chat_identity, std::int64_t> chat_hub::admit_on_primary(const http::identity& who,
                                                                  std::optional<std::int64_t> webinar_param) {
  auto db = ctx_.readers->acquire();
  if (who.role == http::identity::kind::organizer) {
    if (!webinar_param) throw api_error(400, "bad_request", "the organizer must name the webinar (webinar=ID)", "webinar");
    if (!registration::find_webinar(*db, *webinar_param)) throw api_error(404, "not_found", "no such webinar");
    return {chat_identity{0, "Organizer", "organizer", {}}, *webinar_param};
  }
  const auto me = registration::active_registration(*db, who.registration_id, who.token_nonce_hash);
  if (webinar_param && *webinar_param != me.webinar_id) throw api_error(403, "forbidden", "this token is for another webinar");
  registration::require_seat(me);
  if (is_banned(*db, me.webinar_id, me.id)) throw api_error(403, "forbidden", "you have been removed from this chat");
  return {chat_identity{me.id, me.name, "registrant", who.token_nonce_hash}, me.webinar_id};
}

// No database here: the token's signature vouches for who it was issued to, and the revocation
// list (kept current through the bus; the node is not ready before it has it) for the rest.
std::pair<chat_identity, std::int64_t> chat_hub::admit_on_edge(const http::identity& who,
                                                               std::optional<std::int64_t> webinar_param) const {
  std::lock_guard lock(revoked_mutex_);
  // Fail closed: a list Redis handed over without the primary's marker may lack revocations.
  if (!revoked_.trusted()) {
    if (ctx_.metrics) ctx_.metrics->chat_revocations_stale_refused.add();
    throw api_error(503, "not_ready", "this node is waiting for the primary to confirm the revocation list; try again shortly");
  }
  if (who.role == http::identity::kind::organizer) {
    if (!webinar_param) throw api_error(400, "bad_request", "the organizer must name the webinar (webinar=ID)", "webinar");
    if (auto why = revoked_.refuses_organizer(*webinar_param)) throw api_error(why->status, why->code, why->message);
    return {chat_identity{0, "Organizer", "organizer", {}}, *webinar_param};
  }
  if (webinar_param && *webinar_param != who.webinar_id && !revoked_.refuses(who.webinar_id, who.registration_id, who.token_nonce_hash))
    throw api_error(403, "forbidden", "this token is for another webinar");
  if (auto why = revoked_.refuses(who.webinar_id, who.registration_id, who.token_nonce_hash))
    throw api_error(why->status, why->code, why->message);
  return {chat_identity{who.registration_id, who.name.empty() ? "Participant" : who.name, "registrant", who.token_nonce_hash},
          who.webinar_id};
}

http::upgrade_result chat_hub::upgrade(http::request& req) {
  http::upgrade_result out;
  try {
    const auto who = ctx_.authenticate(req, req.token());
    if (who.role == http::identity::kind::anonymous) throw api_error(401, "unauthorized", "a token is required");
    if (!origin_allowed(req.origin)) throw api_error(403, "forbidden", "this Origin may not open the chat");
    const auto since = parse_int(req.query_param("since"));
    std::optional<std::string> epoch;
    if (const auto* e = req.query_param("epoch")) epoch = *e;
    const auto webinar_param = parse_int(req.query_param("webinar"));
    auto [identity, webinar_id] = ctx_.edge ? admit_on_edge(who, webinar_param) : admit_on_primary(who, webinar_param);
    socket_quota::slot slot;
    if (identity.role == "registrant" && !(slot = sockets_->acquire(identity.token_nonce_hash))) {
      if (ctx_.metrics) ctx_.metrics->chat_sockets_per_token_refused.add();
      throw api_error(429, "too_many_sockets",
                      "this link already has " + std::to_string(sockets_->per_key()) + " chat connections open here; close one first");
    }
    auto client = std::make_shared<chat_client>(std::move(identity), room(webinar_id), since, std::move(epoch));
    client->hold(std::move(slot));
    out.accept = std::move(client);
  } catch (const api_error& e) {
    out.refuse = http::error_response(e.status, e.code, e.what(), e.field);
  }
  return out;
}

void chat_hub::add_routes(http::router& r) {
  using http::access;
  using http::verb;
  auto bind = [this](void (chat_hub::*fn)(http::request&, http::responder&)) { return registration::api_handler(this, fn); };
  // Without upgrade headers: the same checks as an upgrade, so a browser whose WebSocket was
  // refused (it only ever sees close code 1006) can ask here why, e.g. 403 after a ban.
  r.get("/ws", [this](http::request& req, http::responder& respond) {
    auto decision = upgrade(req);
    if (decision.refuse) return respond(std::move(*decision.refuse));
    auto res = http::error_response(426, "upgrade_required", "this endpoint speaks WebSocket only");
    res.headers.emplace_back("Upgrade", "websocket");
    respond(std::move(res));
  });
  if (ctx_.edge) return;  // moderation is the primary's
  r.add(verb::del, "/api/webinars/{id}/chat/{message}", {access::organizer, false}, bind(&chat_hub::delete_message));
  r.add(verb::post, "/api/webinars/{id}/mutes", {access::organizer, true}, bind(&chat_hub::mute));
  r.add(verb::post, "/api/webinars/{id}/bans", {access::organizer, true}, bind(&chat_hub::ban));
  r.add(verb::get, "/api/webinars/{id}/chat.csv", {access::organizer, false}, bind(&chat_hub::export_csv));
}

void chat_hub::delete_message(http::request& req, http::responder& respond) {
  const auto webinar_id = req.id_param(0);
  const auto message_id = req.params.at(1);
  registration::queue_write<bool>(
      ctx_.writes, respond,
      [webinar_id, message_id](store::database& db) {
        if (!mark_deleted(db, webinar_id, message_id)) throw common::not_found("no such chat message");
        return true;
      },
      [room = room(webinar_id), message_id](bool) {
        room->remove_message(message_id);
        return response::no_content();
      });
}

std::int64_t chat_hub::registration_in_body(http::request& req) {
  const auto* v = req.json.if_contains("registration_id");
  if (!v || !v->is_int64() || v->get_int64() < 1)
    throw common::invalid("registration_id", "registration_id must be a registration's id");
  const auto id = v->get_int64();
  auto db = ctx_.readers->acquire();
  if (!registration::find_webinar(*db, req.id_param(0))) throw common::not_found("no such webinar");
  auto st = db->prepare("SELECT 1 FROM registrations WHERE id = ? AND webinar_id = ?");
  st.bind(1, id).bind(2, req.id_param(0));
  if (!st.step()) throw common::invalid("registration_id", "no such registration in this webinar");
  return id;
}

void chat_hub::mute(http::request& req, http::responder& respond) {
  const auto id = registration_in_body(req);
  const auto* m = req.json.if_contains("minutes");
  if (!m || !m->is_int64() || m->get_int64() < 1 || m->get_int64() > 1440)
    throw common::invalid("minutes", "minutes must be between 1 and 1440");
  const auto until = common::unix_now() + m->get_int64() * 60;
  const auto webinar_id = req.id_param(0);
  registration::queue_write<bool>(
      ctx_.writes, respond,
      [webinar_id, id, until](store::database& db) {
        set_mute(db, webinar_id, id, until);
        return true;
      },
      [bus = ctx_.bus, webinar_id, id, until](bool) {
        bus->publish_state(webinar_id, "mute:" + std::to_string(id), mute_frame(id, until));
        return response::json(201, json::object{{"registration_id", id}, {"until", common::format_rfc3339(until)}});
      });
}

void chat_hub::ban(http::request& req, http::responder& respond) {
  const auto id = registration_in_body(req);
  const auto webinar_id = req.id_param(0);
  registration::queue_write<bool>(
      ctx_.writes, respond,
      [webinar_id, id](store::database& db) {
        add_ban(db, webinar_id, id, common::unix_now());
        return true;
      },
      [room = room(webinar_id), bus = ctx_.bus, webinar_id, id](bool) {
        bus->revoke(ban_entry(webinar_id, id));
        room->kick(id);
        return response::json(201, json::object{{"registration_id", id}});
      });
}

void chat_hub::export_csv(http::request& req, http::responder& respond) {
  const auto webinar_id = req.id_param(0);
  auto db = ctx_.readers->acquire();
  if (!registration::find_webinar(*db, webinar_id)) throw common::not_found("no such webinar");
  std::string csv;
  common::append_csv_row(csv, {"seq", "id", "sent_at", "from_id", "from_name", "role", "text", "deleted"});
  for_each_transcript(*db, webinar_id, [&csv](const transcript_row& row) {
    common::append_csv_row(csv, {std::to_string(row.seq), row.message_id, common::format_rfc3339(row.sent_at),
                                       std::to_string(row.from_id), row.from_name, row.role, row.text,
                                       row.deleted ? "true" : "false"});
  });
  auto res = response::text(200, std::move(csv), "text/csv; charset=utf-8");
  res.headers.emplace_back("Content-Disposition", "attachment; filename=\"webinar-" + std::to_string(webinar_id) + "-chat.csv\"");
  respond(std::move(res));
}

}  // namespace cohort::chat

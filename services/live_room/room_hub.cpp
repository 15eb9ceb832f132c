#include "live_room/room_hub.hpp"

#include "live_room/revocations.hpp"
#include "live_room/room_client.hpp"
#include "metrics/metrics.hpp"
#include "registration/registration_store.hpp"
#include "registration/webinar_store.hpp"

#include <boost/asio/post.hpp>

#include <charconv>
#include <iostream>

namespace cohort::live_room {
using http::api_error;

namespace {

std::optional<std::int64_t> parse_int(const std::string* text) {
  if (!text) return std::nullopt;
  std::int64_t v = 0;
  auto [p, ec] = std::from_chars(text->data(), text->data() + text->size(), v);
  if (ec != std::errc{} || p != text->data() + text->size() || v < 0) throw api_error(400, "bad_request", "expected a non-negative integer");
  return v;
}

}  // namespace

room_hub::room_hub(hub_context ctx)
    : ctx_(std::move(ctx)), sockets_(std::make_shared<socket_quota>(ctx_.sockets_per_token)) {}

void room_hub::start() {
  if (ctx_.room_idle.count() <= 0) return;
  sweep_timer_.emplace(*ctx_.ioc);
  arm_sweep();
}

void room_hub::stop() {
  std::lock_guard lock(rooms_mutex_);
  if (sweep_timer_) sweep_timer_->cancel();
}

std::size_t room_hub::rooms_in_memory() const {
  std::lock_guard lock(rooms_mutex_);
  return rooms_.size();
}

void room_hub::arm_sweep() {
  std::lock_guard lock(rooms_mutex_);
  // Checked a few times per idle period: a room goes between 1x and 1.25x room_idle after its last member left.
  sweep_timer_->expires_after(std::max(std::chrono::seconds(1), ctx_.room_idle / 4));
  sweep_timer_->async_wait([this](boost::system::error_code ec) {
    if (ec) return;
    sweep_idle_rooms();
    arm_sweep();
  });
}

void room_hub::sweep_idle_rooms() {
  const auto cutoff = std::chrono::steady_clock::now() - ctx_.room_idle;
  std::vector<std::shared_ptr<room>> dropped;
  {
    std::lock_guard lock(rooms_mutex_);
    for (auto it = rooms_.begin(); it != rooms_.end();) {
      const auto idle = it->second->idle_since();
      if (idle && *idle <= cutoff && !hosted_.count(it->first)) {
        dropped.push_back(std::move(it->second));
        it = rooms_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (const auto& r : dropped) r->stop();
}

void room_hub::host(std::int64_t webinar_id) {
  room_for(webinar_id);
  std::lock_guard lock(rooms_mutex_);
  hosted_.insert(webinar_id);
}

bool room_hub::origin_allowed(const std::string& origin) const {
  if (origin.empty()) return true;  // not a browser: nothing to protect against cross-site use
  for (const auto& allowed : ctx_.allowed_origins)
    if (origin == allowed) return true;
  return false;
}

void room_hub::revoked(std::vector<std::string> entries, bool complete) {
  {
    std::lock_guard lock(revoked_mutex_);
    // Never replaced: a Redis that came back empty holds less than this node knew.
    revoked_.add(std::move(entries));
    if (complete) revoked_.set_trusted(true);
  }
  if (ctx_.edge) recheck_open_sockets();
}

void room_hub::revocations_unconfirmed() {
  std::lock_guard lock(revoked_mutex_);
  if (revoked_.trusted()) std::cerr << "cohort: revocation list not confirmed by the primary: refusing new chat sockets until it is\n";
  revoked_.set_trusted(false);
}

bool room_hub::revocations_confirmed() const {
  if (!ctx_.edge) return true;
  std::lock_guard lock(revoked_mutex_);
  return revoked_.trusted();
}

void room_hub::recheck_open_sockets() {
  {
    std::lock_guard lock(revoked_mutex_);
    if (recheck_pending_) return;  // a re-publish sends entries one by one: one pass for the lot
    recheck_pending_ = true;
  }
  boost::asio::post(*ctx_.ioc, [this] {
    std::vector<std::pair<std::int64_t, std::shared_ptr<room>>> rooms;
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
      r->recheck([snapshot, webinar = webinar](const member_identity& who) -> std::optional<std::pair<std::uint16_t, std::string>> {
        if (auto why = snapshot->refuses(webinar, who.id, who.token_nonce_hash)) return std::make_pair(why->close_code, why->message);
        return std::nullopt;
      });
  });
}

void room_hub::registration_cancelled(std::int64_t webinar_id, std::int64_t registration_id, std::string_view token_nonce_hash) {
  ctx_.bus->revoke(token_entry(token_nonce_hash));
  room_for(webinar_id)->cancelled(registration_id);
}

void room_hub::registration_waitlisted(std::string_view token_nonce_hash) { ctx_.bus->revoke(waitlist_entry(token_nonce_hash)); }

void room_hub::registrations_seated(const std::vector<std::string>& token_nonce_hashes) {
  for (const auto& hash : token_nonce_hashes) ctx_.bus->revoke(seated_entry(hash));
}

void room_hub::webinar_deleted(std::int64_t webinar_id) {
  ctx_.bus->revoke(deleted_entry(webinar_id));
  // The primary hosts every room in use on any node: none here means none anywhere.
  std::shared_ptr<room> r;
  {
    std::lock_guard lock(rooms_mutex_);
    if (auto it = rooms_.find(webinar_id); it != rooms_.end()) r = it->second;
  }
  if (r) r->series_deleted();
  ctx_.bus->forget(webinar_id);
  // Its members are closed by x.deleted (above, on every node); the room itself goes now.
  {
    std::lock_guard lock(rooms_mutex_);
    rooms_.erase(webinar_id);
    hosted_.erase(webinar_id);
  }
  if (r) r->stop(4001, "the series was deleted");
}

std::shared_ptr<room> room_hub::room_for(std::int64_t webinar_id) {
  std::lock_guard lock(rooms_mutex_);
  auto& slot = rooms_[webinar_id];
  if (!slot) {
    slot = std::make_shared<room>(*ctx_.ioc, webinar_id, ctx_.rooms, *ctx_.bus, ctx_.metrics, *ctx_.channels);
    slot->start();
  }
  slot->touch();
  return slot;
}

std::pair<member_identity, std::int64_t> room_hub::admit_on_primary(const http::identity& who,
                                                                  std::optional<std::int64_t> webinar_param) {
  auto db = ctx_.readers->acquire();
  if (who.role == http::identity::kind::organizer) {
    if (!webinar_param) throw api_error(400, "bad_request", "the organizer must name the webinar (webinar=ID)", "webinar");
    if (!registration::find_webinar(*db, *webinar_param)) throw api_error(404, "not_found", "no such webinar");
    return {member_identity{0, "Organizer", "organizer", {}}, *webinar_param};
  }
  const auto me = registration::active_registration(*db, who.registration_id, who.token_nonce_hash);
  if (webinar_param && *webinar_param != me.webinar_id) throw api_error(403, "forbidden", "this token is for another webinar");
  registration::require_seat(me);
  if (is_banned(*db, me.webinar_id, me.id)) throw api_error(403, "forbidden", "you have been removed from this chat");
  return {member_identity{me.id, me.name, "registrant", who.token_nonce_hash}, me.webinar_id};
}

// No database here: the token's signature vouches for who it was issued to, and the revocation
// list (kept current through the bus; the node is not ready before it has it) for the rest.
std::pair<member_identity, std::int64_t> room_hub::admit_on_edge(const http::identity& who,
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
    return {member_identity{0, "Organizer", "organizer", {}}, *webinar_param};
  }
  if (webinar_param && *webinar_param != who.webinar_id && !revoked_.refuses(who.webinar_id, who.registration_id, who.token_nonce_hash))
    throw api_error(403, "forbidden", "this token is for another webinar");
  if (auto why = revoked_.refuses(who.webinar_id, who.registration_id, who.token_nonce_hash))
    throw api_error(why->status, why->code, why->message);
  return {member_identity{who.registration_id, who.name.empty() ? "Participant" : who.name, "registrant", who.token_nonce_hash},
          who.webinar_id};
}

http::upgrade_result room_hub::upgrade(http::request& req) {
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
    auto client = std::make_shared<room_client>(std::move(identity), room_for(webinar_id), *ctx_.channels, since, std::move(epoch));
    client->hold(std::move(slot));
    out.accept = std::move(client);
  } catch (const api_error& e) {
    out.refuse = http::error_response(e.status, e.code, e.what(), e.field);
  }
  return out;
}

void room_hub::add_routes(http::router& r) {
  using http::access;
  using http::verb;
  // Without upgrade headers: the same checks as an upgrade, so a browser whose WebSocket was
  // refused (it only ever sees close code 1006) can ask here why, e.g. 403 after a ban.
  r.get("/ws", [this](http::request& req, http::responder& respond) {
    auto decision = upgrade(req);
    if (decision.refuse) return respond(std::move(*decision.refuse));
    // Give the socket slot back before answering: the answer can reach the client, and its real
    // upgrade reach another thread, before this handler returns.
    decision.accept.reset();
    auto res = http::error_response(426, "upgrade_required", "this endpoint speaks WebSocket only");
    res.headers.emplace_back("Upgrade", "websocket");
    respond(std::move(res));
  });
  if (ctx_.edge || !ctx_.channels) return;  // the channels' routes are the primary's
  ctx_.channels->add_routes(r);
}

}  // namespace cohort::live_room

#include "chat/chat_room.hpp"

#include "metrics/metrics.hpp"
#include "common/rfc3339.hpp"

#include <boost/asio/post.hpp>
#include <boost/json.hpp>

#include <algorithm>
#include <iostream>

namespace cohort::chat {
namespace json = boost::json;
using common::format_rfc3339;
using common::unix_now;

namespace {

std::shared_ptr<const std::string> frame_of(const json::object& o) {
  return std::make_shared<const std::string>(json::serialize(o));
}

json::object from_json(const chat_identity& who) {
  return json::object{{"id", who.id}, {"name", who.name}, {"role", who.role}};
}

// The epoch is the part of a message id before its last '-': "e3f1a9c2-43".
std::string epoch_of(std::string_view id) {
  const auto dash = id.rfind('-');
  return std::string(dash == std::string_view::npos ? id : id.substr(0, dash));
}

}  // namespace

chat_room::chat_room(boost::asio::io_context& ioc, std::int64_t webinar_id, room_options options, chat_bus& bus,
                     metrics::registry* metrics, room_records records)
    : strand_(boost::asio::make_strand(ioc)),
      webinar_id_(webinar_id),
      options_(options),
      bus_(bus),
      metrics_(metrics),
      records_(std::move(records)),
      history_("", options.history),
      state_loaded_(!records_.initial_state),
      presence_timer_(strand_),
      presence_heartbeat_(strand_),
      attendance_timer_(strand_),
      arrivals_timer_(strand_) {}

void chat_room::start() {
  // The room lives as long as the hub (rooms are never dropped), so the feed may hold it.
  auto self = shared_from_this();
  bus_.watch(webinar_id_,
             room_feed{[self](std::string epoch, std::int64_t last_seq, std::vector<std::string> frames,
                              std::vector<std::string> deleted, std::vector<std::string> state) {
                         boost::asio::post(self->strand_, [self, epoch = std::move(epoch), last_seq, frames = std::move(frames),
                                                           deleted = std::move(deleted), state = std::move(state)]() mutable {
                           self->on_loaded(std::move(epoch), last_seq, std::move(frames), std::move(deleted), std::move(state));
                         });
                       },
                       [self](std::string frame) {
                         boost::asio::post(self->strand_, [self, frame = std::move(frame)] { self->on_event(frame, false); });
                       }});
  // Read after watching: a change committed later is published later, so the bus brings it.
  // Joins wait for it too, so the first hello already lists every released drop.
  if (records_.initial_state) {
    boost::asio::post(strand_, [self, frames = records_.initial_state(webinar_id_)] {
      for (const auto& f : frames) {
        boost::system::error_code ec;
        const auto v = json::parse(f, ec);
        if (!ec && v.is_object()) self->apply_state(v.as_object(), self->loaded_);
      }
      self->state_loaded_ = true;
      self->admit_pending();
    });
  }
}

void chat_room::admit_pending() {
  if (!loaded_ || !state_loaded_) return;
  for (const auto& j : pending_joins_) do_join(j);
  pending_joins_.clear();
}

void chat_room::join(std::shared_ptr<room_member> m, std::optional<std::int64_t> since, std::optional<std::string> epoch) {
  boost::asio::post(strand_, [self = shared_from_this(), j = pending_join{std::move(m), since, std::move(epoch)}] {
    if (!self->loaded_ || !self->state_loaded_) return self->pending_joins_.push_back(j);
    self->do_join(j);
  });
}

void chat_room::do_join(const pending_join& j) {
  const auto& m = j.member;
  queue_pending();  // those are in the history this hello carries, not for the newcomer
  members_.insert(m);
  const auto up = history_.since(j.since, j.epoch, options_.hello_messages, unix_now());
  // Frames are already serialized JSON objects: splice them into the hello instead of re-parsing.
  std::string messages = "[";
  for (const auto* msg : up.messages) {
    if (messages.size() > 1) messages += ',';
    messages += *msg->frame;
  }
  messages += ']';
  json::object hello{{"type", "hello"},
                     {"me", from_json(m->who())},
                     {"room", webinar_id_},
                     {"seq", history_.last_seq()},
                     {"epoch", history_.epoch()},
                     // The last total, corrected by what changed here since (this member included).
                     {"presence", presence_total_ + members_.size() - std::min(local_reported_, presence_total_ + members_.size())},
                     {"recovered", up.recovered},
                     {"drops", state_.drops_for(m->who())},
                     {"messages", json::array{}}};
  auto text = json::serialize(hello);
  const std::string empty = "\"messages\":[]";
  text.replace(text.rfind(empty), empty.size(), "\"messages\":" + messages);
  send_to(m, std::make_shared<const std::string>(std::move(text)));
  if (state_.stream_live()) send_to(m, state_.stream_event());  // the player starts at once
  presence_changed();
  if (m->who().role == "registrant") note_arrival(m->who().id);
  arm_attendance();
}

void chat_room::leave(std::shared_ptr<room_member> m) {
  boost::asio::post(strand_, [self = shared_from_this(), m = std::move(m)] {
    std::erase_if(self->pending_joins_, [&](const pending_join& j) { return j.member == m; });
    if (self->members_.erase(m)) self->presence_changed();
  });
}

void chat_room::post_message(std::shared_ptr<room_member> from, std::string text, std::string client_id) {
  boost::asio::post(strand_, [self = shared_from_this(), from = std::move(from), text = std::move(text),
                              client_id = std::move(client_id)] { self->do_post_message(from, text, client_id); });
}

void chat_room::do_post_message(const std::shared_ptr<room_member>& from, const std::string& text,
                                const std::string& client_id) {
  const auto who = from->who();
  // A resend (same person, same client_id) is already in the order or on its way: deliver it once.
  if (!client_id.empty() &&
      (history_.has_client_id(who.id, client_id) || in_flight_.count({who.id, client_id})))
    return;
  const auto now = unix_now();
  if (const auto until = state_.muted_until(who.id, now)) return refuse(from, "muted", "you are muted in this chat", *until);
  auto& limiter = limiters_.try_emplace(who.id, options_.flood).first->second;
  const auto steady_now = rate_limiter::clock::now();
  if (!limiter.allow(steady_now)) {
    const auto wait = std::chrono::ceil<std::chrono::seconds>(limiter.blocked_until() - steady_now).count();
    return refuse(from, "rate_limited",
                  "slow down: at most " + std::to_string(options_.flood.burst) + " messages per " +
                      std::to_string(options_.flood.window.count()) + " ms",
                  now + wait);
  }
  // Serialized once here; the bus puts seq and id in front, and every node delivers those bytes.
  json::object body{{"from", from_json(who)}, {"text", text}, {"ts", format_rfc3339(now)}};
  if (!client_id.empty()) body["client_id"] = client_id;
  auto tail = json::serialize(body).substr(1);
  if (!client_id.empty()) in_flight_.insert({who.id, client_id});
  const flood_limit limit{who.role == "organizer" ? 0 : who.id, options_.flood.burst,
                          static_cast<int>(options_.flood.window.count()),
                          static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(options_.flood.penalty).count())};
  bus_.publish(webinar_id_, std::move(tail), limit, [self = shared_from_this(), from, who, client_id](published p) {
    if (p.ok) return;  // the message comes back through the bus like everyone else's
    boost::asio::post(self->strand_, [self, who, client_id] { self->in_flight_.erase({who.id, client_id}); });
    if (p.blocked_ms > 0) {
      self->refuse(from, "rate_limited",
                   "slow down: at most " + std::to_string(self->options_.flood.burst) + " messages per " +
                       std::to_string(self->options_.flood.window.count()) + " ms, counting all your connections",
                   unix_now() + (p.blocked_ms + 999) / 1000);
      return;
    }
    self->refuse(from, "unavailable", "the chat is briefly unavailable, try again", std::nullopt);
  });
}

void chat_room::on_loaded(std::string epoch, std::int64_t last_seq, std::vector<std::string> frames,
                          std::vector<std::string> deleted, std::vector<std::string> state) {
  const bool first = !loaded_;
  // Drops released while this node was cut off reach its members now; the rest is known.
  for (const auto& f : state) on_event(f, first);
  if (epoch != history_.epoch()) {
    // A new history (first load, or Redis lost its data): whatever this copy held is void.
    if (!first) restart_members();
    history_.reset(epoch, frames.empty() ? last_seq : last_seq - static_cast<std::int64_t>(frames.size()));
  }
  // Replayed frames fill what this node missed (e.g. while Redis was unreachable); members get
  // the ones they have not seen yet, in order.
  for (auto& f : frames) on_event(f, first);
  for (const auto& id : deleted) history_.remove(id);
  if (history_.last_seq() < last_seq) history_.reset(epoch, last_seq);  // a gap the bus no longer holds
  loaded_ = true;
  for (auto& e : early_events_) on_event(e, false);
  early_events_.clear();
  admit_pending();
}

void chat_room::on_event(const std::string& frame, bool replay) {
  if (!loaded_ && !replay) return early_events_.push_back(frame);
  try {
    apply_event(frame, replay);
  } catch (const std::exception& e) {
    // Frames come from our own nodes; a malformed one is dropped, never allowed to stop the loop.
    std::cerr << "cohort: chat: dropped a malformed bus event: " << e.what() << "\n";
  }
}

void chat_room::apply_event(const std::string& frame, bool replay) {
  boost::system::error_code ec;
  auto value = json::parse(frame, ec);
  if (ec || !value.is_object()) return;
  const auto& o = value.get_object();
  const auto* type = o.if_contains("type");
  if (!type || !type->is_string()) return;
  const auto t = type->get_string();
  if (t == "chat.message") return apply_message(std::make_shared<const std::string>(frame), o, !replay);
  if (room_state::is_state_frame(t)) return apply_state(o, !replay);
  if (t == "chat.deleted") {
    if (const auto* id = o.if_contains("id"); id && id->is_string() && history_.remove(std::string(id->get_string())))
      broadcast(std::make_shared<const std::string>(frame));
    return;
  }
  const auto registration_id = o.contains("registration_id") ? o.at("registration_id").to_number<std::int64_t>() : 0;
  if (t == "x.presence") {
    presence_changed();
  } else if (t == "x.ban") {
    close_member(registration_id, 4003, "banned");
  } else if (t == "x.cancelled") {
    close_member(registration_id, 4001, "registration cancelled");
  } else if (t == "x.deleted") {
    close_member(std::nullopt, 4001, "the series was deleted");
  } else if (t == "x.present" && records_.attendance) {
    std::vector<std::int64_t> ids;
    for (const auto& id : o.at("ids").as_array()) ids.push_back(id.to_number<std::int64_t>());
    records_.attendance(webinar_id_, std::move(ids), o.at("minute").to_number<std::int64_t>());
  }
}

void chat_room::apply_state(const json::object& frame, bool broadcast_new) {
  if (frame.at("type").as_string() == "x.stream") {
    if (state_.apply_stream(frame) && broadcast_new) broadcast(state_.stream_event());
    return;
  }
  const auto* released = state_.apply(frame);
  if (!released || !broadcast_new) return;
  queue_pending();  // keep the order: what was broadcast before goes first
  for (const auto& m : members_)
    if (state_.is_for(*released, m->who())) m->deliver(released->event);
  flush_all_ = true;
  schedule_flush();
}

void chat_room::recheck(refusal_check refused) {
  boost::asio::post(strand_, [self = shared_from_this(), refused = std::move(refused)] {
    bool closed = false;
    for (auto it = self->members_.begin(); it != self->members_.end();) {
      const auto why = (*it)->who().role == "registrant" ? refused((*it)->who()) : std::nullopt;
      if (why) {
        (*it)->disconnect(why->first, why->second);
        it = self->members_.erase(it);
        closed = true;
      } else {
        ++it;
      }
    }
    if (closed) self->presence_changed();
  });
}

void chat_room::close_member(std::optional<std::int64_t> registration_id, std::uint16_t code, const char* reason) {
  for (auto it = members_.begin(); it != members_.end();) {
    if ((*it)->who().role == "registrant" && (!registration_id || (*it)->who().id == *registration_id)) {
      (*it)->disconnect(code, reason);
      it = members_.erase(it);
    } else {
      ++it;
    }
  }
  presence_changed();
}

// Attendance is recorded by minute: at each join and then once a minute for everyone here. The
// frame goes through the bus to the primary's room, which writes it (an edge has no database).
void chat_room::report_present(std::vector<std::int64_t> ids) {
  if (ids.empty()) return;
  json::array list;
  for (auto id : ids) list.push_back(id);
  bus_.publish_control(webinar_id_, json::serialize(json::object{
                                        {"type", "x.present"}, {"ids", std::move(list)}, {"minute", unix_now() / 60}}));
}

// Arrivals are reported a second later, together: a join storm becomes one frame, and when this
// room is the first in the cluster, the primary has meanwhile subscribed to it (x.room).
void chat_room::note_arrival(std::int64_t registration_id) {
  arrivals_.insert(registration_id);
  if (arrivals_armed_) return;
  arrivals_armed_ = true;
  arrivals_timer_.expires_after(std::chrono::seconds(1));
  arrivals_timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
    self->arrivals_armed_ = false;
    if (ec) return;
    self->report_present({self->arrivals_.begin(), self->arrivals_.end()});
    self->arrivals_.clear();
  });
}

void chat_room::arm_attendance() {
  if (attendance_armed_ || members_.empty()) return;
  attendance_armed_ = true;
  attendance_timer_.expires_after(std::chrono::seconds(60));
  attendance_timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
    self->attendance_armed_ = false;
    if (ec) return;
    std::set<std::int64_t> here;
    for (const auto& m : self->members_)
      if (m->who().role == "registrant") here.insert(m->who().id);
    self->report_present({here.begin(), here.end()});
    self->arm_attendance();
  });
}

void chat_room::apply_message(std::shared_ptr<const std::string> frame, const json::object& o, bool broadcast_it) {
  stored_message m;
  m.seq = o.at("seq").to_number<std::int64_t>();
  m.id = std::string(o.at("id").get_string());
  m.sender_id = o.at("from").at("id").to_number<std::int64_t>();
  if (const auto* cid = o.if_contains("client_id")) m.client_id = std::string(cid->get_string());
  m.ts = common::parse_rfc3339(o.at("ts").get_string()).value_or(unix_now());
  m.frame = frame;
  in_flight_.erase({m.sender_id, m.client_id});
  const auto epoch = epoch_of(m.id);
  if (epoch != history_.epoch()) {  // the bus started a new history
    restart_members();
    history_.reset(epoch, m.seq - 1);
  }
  if (m.seq <= history_.last_seq()) return;                          // already have it
  if (m.seq > history_.next_seq()) history_.reset(epoch, m.seq - 1);  // missed some: catch-up falls back
  if (records_.transcript) {
    const auto& from = o.at("from").as_object();
    records_.transcript(transcript_entry{webinar_id_, m.seq, m.id, m.ts,
                                         chat_identity{m.sender_id, std::string(from.at("name").as_string()),
                                                       std::string(from.at("role").as_string()), {}},
                                         std::string(o.at("text").as_string())});
  }
  history_.append(std::move(m), unix_now());
  if (metrics_) metrics_->chat_messages.add();
  if (!broadcast_it) return;
  if (!o.contains("client_id")) return broadcast(frame);
  // Only the sender matches its echo by client_id: everyone else gets the frame without it,
  // serialized once (the history keeps the full frame, for the sender's catch-up).
  auto others = o;
  others.erase("client_id");
  pending_.push_back({std::make_shared<const std::string>(json::serialize(others)), std::move(frame),
                      o.at("from").at("id").to_number<std::int64_t>()});
  schedule_flush();
}

void chat_room::restart_members() {
  // Their seqs belong to the lost history: a reconnect gets a hello under the new epoch
  // (recovered:false), which is the only way the protocol tells a client to start over.
  for (const auto& m : members_) m->disconnect(1012, "chat history reset, reconnect");
  members_.clear();
  presence_changed();
}

void chat_room::remove_message(const std::string& id) {
  bus_.publish_control(webinar_id_, json::serialize(json::object{{"type", "chat.deleted"}, {"id", id}}));
}

void chat_room::cancelled(std::int64_t registration_id) {
  bus_.publish_control(webinar_id_, json::serialize(json::object{{"type", "x.cancelled"}, {"registration_id", registration_id}}));
}

void chat_room::series_deleted() { bus_.publish_control(webinar_id_, "{\"type\":\"x.deleted\"}"); }

void chat_room::kick(std::int64_t registration_id) {
  bus_.publish_control(webinar_id_, json::serialize(json::object{{"type", "x.ban"}, {"registration_id", registration_id}}));
}

void chat_room::broadcast(const std::shared_ptr<const std::string>& frame) {
  pending_.push_back({frame, nullptr, 0});
  schedule_flush();
}

// Moves the pending broadcasts into every member's queue (flushed at the turn's end): before a
// frame for some members only, or a join, so that each member's frames keep the room's order.
void chat_room::queue_pending() {
  if (pending_.empty()) return;
  for (const auto& m : members_)
    for (const auto& p : pending_) m->deliver(p.for_member(m->who().id));
  pending_.clear();
  flush_all_ = true;
}

void chat_room::send_to(const std::shared_ptr<room_member>& m, std::shared_ptr<const std::string> frame) {
  queue_pending();
  m->deliver(std::move(frame));
  if (!flush_all_) flush_some_.push_back(m);
  schedule_flush();
}

// The flush runs after whatever else is already queued on the strand: under load, several
// messages reach each socket in one write instead of one write per message.
void chat_room::schedule_flush() {
  if (flush_posted_) return;
  flush_posted_ = true;
  boost::asio::post(strand_, [self = shared_from_this()] { self->flush_members(); });
}

void chat_room::flush_members() {
  flush_posted_ = false;
  if (!pending_.empty() && !flush_all_ && flush_some_.empty()) {
    // The common turn, broadcasts only: one pass, one call and one write per member.
    std::vector<std::shared_ptr<const std::string>> frames;
    frames.reserve(pending_.size());
    bool variants = false;
    for (const auto& p : pending_) {
      frames.push_back(p.frame);
      variants = variants || p.own;
    }
    for (const auto& m : members_) {
      const bool sender = variants && std::any_of(pending_.begin(), pending_.end(), [&](const pending_broadcast& p) {
                            return p.sent_by(m->who().id);
                          });
      if (!sender) {
        m->send_batch(frames);
        continue;
      }
      for (const auto& p : pending_) m->deliver(p.for_member(m->who().id));
      m->flush();
    }
    pending_.clear();
    return;
  }
  queue_pending();
  if (flush_all_) {
    for (const auto& m : members_) m->flush();
  } else {
    for (const auto& m : flush_some_) m->flush();
  }
  flush_all_ = false;
  flush_some_.clear();
}

void chat_room::refuse(const std::shared_ptr<room_member>& to, const char* code, const std::string& message,
                       std::optional<std::int64_t> until_unix) {
  if (metrics_) metrics_->chat_rejected.add();
  json::object err{{"type", "error"}, {"code", code}, {"message", message}};
  if (until_unix) err["until"] = format_rfc3339(*until_unix);
  // Also called off the strand (a failed publish): this member only, flushed at once.
  to->deliver(frame_of(err));
  to->flush();
}

void chat_room::presence_changed() {
  if (presence_timer_armed_) return;  // the pending send will carry the latest count
  const auto due = presence_sent_at_ + options_.presence_interval;
  if (std::chrono::steady_clock::now() >= due) return send_presence();
  presence_timer_armed_ = true;
  presence_timer_.expires_at(due);
  presence_timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
    self->presence_timer_armed_ = false;
    if (!ec) self->send_presence();
  });
}

void chat_room::send_presence() {
  presence_sent_at_ = std::chrono::steady_clock::now();
  const auto local = members_.size();
  const bool local_changed = local != local_reported_;
  bus_.count_presence(webinar_id_, local, [self = shared_from_this(), local, local_changed](std::size_t total) {
    boost::asio::post(self->strand_, [self, total, local, local_changed] { self->on_presence_total(total, local, local_changed); });
  });
  arm_presence_heartbeat();
}

void chat_room::on_presence_total(std::size_t total, std::size_t local_reported, bool local_changed) {
  presence_total_ = total;
  local_reported_ = local_reported;
  // Tell the other nodes' rooms to recount: their members should see this change too.
  if (local_changed) bus_.publish_control(webinar_id_, "{\"type\":\"x.presence\"}");
  if (total == presence_sent_) return;
  presence_sent_ = total;
  broadcast(frame_of(json::object{{"type", "presence"}, {"count", total}}));
}

void chat_room::arm_presence_heartbeat() {
  if (heartbeat_armed_ || members_.empty()) return;
  heartbeat_armed_ = true;
  presence_heartbeat_.expires_after(std::chrono::seconds(10));
  presence_heartbeat_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
    self->heartbeat_armed_ = false;
    if (!ec) self->presence_changed();
  });
}

}  // namespace cohort::chat

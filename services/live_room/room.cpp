#include "live_room/room.hpp"

#include "common/rfc3339.hpp"

#include <boost/asio/post.hpp>
#include <boost/json.hpp>

#include <algorithm>
#include <iostream>

namespace cohort::live_room {
namespace json = boost::json;
using common::format_rfc3339;
using common::unix_now;

namespace {

json::object identity_json(const member_identity& who) {
  return json::object{{"id", who.id}, {"name", who.name}, {"role", who.role}};
}

// The epoch is the part of a sequenced event's id before its last '-': "e3f1a9c2-43".
std::string epoch_of(std::string_view id) {
  const auto dash = id.rfind('-');
  return std::string(dash == std::string_view::npos ? id : id.substr(0, dash));
}

}  // namespace

room::room(boost::asio::io_context& ioc, std::int64_t webinar_id, room_options options, room_bus& bus, metrics::registry* metrics,
           const channel_registry& channels)
    : strand_(boost::asio::make_strand(ioc)),
      webinar_id_(webinar_id),
      options_(options),
      bus_(bus),
      metrics_(metrics),
      channels_(channels),
      history_("", options.history),
      state_loaded_(!options.load_stored_state),
      idle_since_(std::chrono::steady_clock::now()) {
  parts_.reserve(channels_.channels().size());
  for (const auto& c : channels_.channels()) parts_.push_back(c->open(*this));
}

void room::start() {
  // The bus holds the room through its feed until stop() (unwatch) or the bus stops.
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
  // Joins wait for it too, so the first hello already holds every channel's state.
  if (options_.load_stored_state) {
    boost::asio::post(strand_, [self, frames = channels_.stored_state(webinar_id_)] {
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

void room::stop(std::uint16_t code, std::string reason) {
  bus_.unwatch(webinar_id_);
  boost::asio::post(strand_, [self = shared_from_this(), code, reason = std::move(reason)] {
    self->stopped_ = true;
    for (const auto& m : self->members_) m->disconnect(code, reason);
    for (const auto& j : self->pending_joins_) j.member->disconnect(code, reason);
    self->members_.clear();
    self->pending_joins_.clear();
    for (auto& p : self->parts_) p->on_stop();
  });
}

std::optional<std::chrono::steady_clock::time_point> room::idle_since() const {
  std::lock_guard lock(idle_mutex_);
  return idle_since_;
}

void room::touch() {
  std::lock_guard lock(idle_mutex_);
  if (idle_since_) idle_since_ = std::chrono::steady_clock::now();
}

void room::note_membership() {
  std::lock_guard lock(idle_mutex_);
  if (members_.empty() && pending_joins_.empty()) {
    if (!idle_since_) idle_since_ = std::chrono::steady_clock::now();
  } else {
    idle_since_.reset();
  }
}

void room::admit_pending() {
  if (!loaded_ || !state_loaded_) return;
  for (const auto& j : pending_joins_) do_join(j);
  pending_joins_.clear();
}

void room::join(member_ptr m, std::optional<std::int64_t> since, std::optional<std::string> epoch) {
  boost::asio::post(strand_, [self = shared_from_this(), j = pending_join{std::move(m), since, std::move(epoch)}] {
    if (self->stopped_) return j.member->disconnect(1001, "the room closed");
    if (!self->loaded_ || !self->state_loaded_) {
      self->pending_joins_.push_back(j);
      return self->note_membership();
    }
    self->do_join(j);
  });
}

void room::do_join(const pending_join& j) {
  const auto& m = j.member;
  queue_pending();  // those are in the history this hello carries, not for the newcomer
  members_.insert(m);
  note_membership();
  for (auto& p : parts_) p->on_join(m);
  const auto up = history_.since(j.since, j.epoch, options_.hello_messages, unix_now());
  // Held messages are not out yet: the newcomer gets them when everyone does.
  const auto seq = delivered_seq();
  // Frames are already serialized JSON objects: splice them into the hello instead of re-parsing.
  std::string messages = "[";
  for (const auto* msg : up.messages) {
    if (msg->seq > seq) break;
    if (messages.size() > 1) messages += ',';
    messages += *msg->frame;
  }
  messages += ']';
  json::object hello{{"type", "hello"},
                     {"me", identity_json(m->who())},
                     {"room", webinar_id_},
                     {"seq", seq},
                     {"epoch", history_.epoch()},
                     {"recovered", up.recovered}};
  for (auto& p : parts_) p->add_to_hello(m->who(), hello);
  hello["messages"] = json::array{};
  auto text = json::serialize(hello);
  const std::string empty = "\"messages\":[]";
  text.replace(text.rfind(empty), empty.size(), "\"messages\":" + messages);
  send_to(m, std::make_shared<const std::string>(std::move(text)));
  for (auto& p : parts_) p->after_hello(m);
}

void room::leave(member_ptr m) {
  boost::asio::post(strand_, [self = shared_from_this(), m = std::move(m)] {
    std::erase_if(self->pending_joins_, [&](const pending_join& j) { return j.member == m; });
    if (const auto it = self->members_.find(m); it != self->members_.end()) self->erase_member(it);
    self->note_membership();
  });
}

void room::erase_member(std::unordered_set<member_ptr>::iterator it) {
  const auto m = *it;
  members_.erase(it);
  for (auto& p : parts_) p->on_leave(m);
}

void room::client_message(member_ptr from, const channel_registry::route& route, json::object msg) {
  boost::asio::post(strand_, [self = shared_from_this(), from = std::move(from), index = route.channel, msg = std::move(msg)] {
    self->parts_[index]->on_client(from, msg.at("type").get_string(), msg);
  });
}

void room::on_loaded(std::string epoch, std::int64_t last_seq, std::vector<std::string> frames, std::vector<std::string> deleted,
                     std::vector<std::string> state) {
  const bool first = !loaded_;
  // State changed while this node was cut off reaches its members now; the rest is known.
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

void room::on_event(const std::string& frame, bool replay) {
  if (stopped_) return;
  if (!loaded_ && !replay) return early_events_.push_back(frame);
  try {
    apply_event(frame, replay);
  } catch (const std::exception& e) {
    // Frames come from our own nodes; a malformed one is dropped, never allowed to stop the loop.
    std::cerr << "cohort: live room: dropped a malformed bus event: " << e.what() << "\n";
  }
}

void room::apply_event(const std::string& frame, bool replay) {
  boost::system::error_code ec;
  auto value = json::parse(frame, ec);
  if (ec || !value.is_object()) return;
  const auto& o = value.get_object();
  const auto* type = o.if_contains("type");
  if (!type || !type->is_string()) return;
  const auto t = type->get_string();
  // The room's own control frames: who may stay (the hub publishes them).
  if (t == "x.cancelled") return close_members(o.at("registration_id").to_number<std::int64_t>(), 4001, "registration cancelled");
  if (t == "x.deleted") return close_members(std::nullopt, 4001, "the series was deleted");
  const auto* route = channels_.event_route(t);
  if (!route) return;
  switch (route->what) {
    case channel_registry::kind::sequenced:
      return apply_sequenced(route->channel, std::make_shared<const std::string>(frame), o, !replay);
    case channel_registry::kind::state:
      return apply_state(o, !replay);
    case channel_registry::kind::control:
      return parts_[route->channel]->on_control(t, o, std::make_shared<const std::string>(frame), !replay);
    case channel_registry::kind::client:
      return;
  }
}

void room::apply_state(const json::object& frame, bool live) {
  const auto* type = frame.if_contains("type");
  const auto* route = type && type->is_string() ? channels_.event_route(type->get_string()) : nullptr;
  if (route && route->what == channel_registry::kind::state) parts_[route->channel]->on_state(frame, live);
}

void room::apply_sequenced(std::size_t channel, std::shared_ptr<const std::string> frame, const json::object& o, bool broadcast_it) {
  stored_message m;
  m.seq = o.at("seq").to_number<std::int64_t>();
  m.id = std::string(o.at("id").get_string());
  if (const auto* from = o.if_contains("from")) m.sender_id = from->at("id").to_number<std::int64_t>();
  if (const auto* cid = o.if_contains("client_id")) m.client_id = std::string(cid->get_string());
  const auto* ts = o.if_contains("ts");
  m.ts = ts ? common::parse_rfc3339(ts->get_string()).value_or(unix_now()) : unix_now();
  m.frame = frame;
  const auto epoch = epoch_of(m.id);
  if (epoch != history_.epoch()) {  // the bus started a new history
    restart_members();
    history_.reset(epoch, m.seq - 1);
  }
  if (m.seq <= history_.last_seq()) return;                          // already have it
  if (m.seq > history_.next_seq()) history_.reset(epoch, m.seq - 1);  // missed some: catch-up falls back
  const auto sender = m.sender_id;
  const auto seq = m.seq;
  history_.append(std::move(m), unix_now());
  const bool hold = parts_[channel]->on_sequenced(o, broadcast_it) && broadcast_it;
  if (!broadcast_it) return;
  pending_broadcast out{std::move(frame), nullptr, 0};
  if (o.contains("client_id")) {
    // Only the sender matches its echo by client_id: everyone else gets the frame without it,
    // serialized once (the history keeps the full frame, for the sender's catch-up).
    auto others = o;
    others.erase("client_id");
    out = {std::make_shared<const std::string>(json::serialize(others)), std::move(out.frame), sender};
  }
  if (hold || !held_.empty()) return held_.push_back({std::string(o.at("id").get_string()), seq, std::move(out), !hold, nullptr});
  pending_.push_back(std::move(out));
  schedule_flush();
}

void room::release_sequenced(const std::string& id, std::function<void()> withdrawn) {
  const auto it = std::find_if(held_.begin(), held_.end(), [&](const held_broadcast& h) { return h.id == id; });
  if (it == held_.end() || it->released) return;  // a history that was reset since
  it->released = true;
  if (withdrawn) {
    history_.withdraw(id);
    it->withdrawn = std::move(withdrawn);
  }
  bool moved = false;
  while (!held_.empty() && held_.front().released) {
    auto h = std::move(held_.front());
    held_.pop_front();
    moved = true;
    if (!h.withdrawn) {
      pending_.push_back(std::move(h.out));
      continue;
    }
    queue_pending();  // what was sequenced before it reaches members first
    h.withdrawn();
  }
  if (moved) schedule_flush();
}

std::int64_t room::delivered_seq() const { return held_.empty() ? history_.last_seq() : held_.front().seq - 1; }

void room::restart_members() {
  held_.clear();  // sequenced in the lost history: nobody gets them now
  // Their seqs belong to the lost history: a reconnect gets a hello under the new epoch
  // (recovered:false), which is the only way the protocol tells a client to start over.
  for (const auto& m : members_) m->disconnect(1012, "chat history reset, reconnect");
  while (!members_.empty()) erase_member(members_.begin());
  note_membership();
}

void room::recheck(refusal_check refused) {
  boost::asio::post(strand_, [self = shared_from_this(), refused = std::move(refused)] {
    for (auto it = self->members_.begin(); it != self->members_.end();) {
      const auto why = (*it)->who().role == "registrant" ? refused((*it)->who()) : std::nullopt;
      if (!why) {
        ++it;
        continue;
      }
      (*it)->disconnect(why->first, why->second);
      self->erase_member(it++);
    }
    self->note_membership();
  });
}

void room::close_members(std::optional<std::int64_t> registration_id, std::uint16_t code, const char* reason) {
  for (auto it = members_.begin(); it != members_.end();) {
    if ((*it)->who().role == "registrant" && (!registration_id || (*it)->who().id == *registration_id)) {
      (*it)->disconnect(code, reason);
      erase_member(it++);
    } else {
      ++it;
    }
  }
  note_membership();
}

void room::cancelled(std::int64_t registration_id) {
  bus_.publish_control(webinar_id_, json::serialize(json::object{{"type", "x.cancelled"}, {"registration_id", registration_id}}));
}

void room::series_deleted() { bus_.publish_control(webinar_id_, "{\"type\":\"x.deleted\"}"); }

void room::post(std::function<void()> task) {
  boost::asio::post(strand_, [self = shared_from_this(), task = std::move(task)] { task(); });
}

void room::publish_sequenced(std::string type, std::string tail, flood_limit limit, std::function<void(published)> done) {
  bus_.publish(webinar_id_, std::move(type), std::move(tail), limit, std::move(done));
}

void room::publish_control(std::string frame) { bus_.publish_control(webinar_id_, std::move(frame)); }

bool room::in_history(std::int64_t sender, const std::string& client_id) const { return history_.has_client_id(sender, client_id); }

bool room::remove_from_history(const std::string& id) { return history_.remove(id); }

void room::broadcast(frame_ptr frame) {
  pending_.push_back({std::move(frame), nullptr, 0});
  schedule_flush();
}

void room::send_where(frame_ptr frame, const std::function<bool(const member_identity&)>& wants) {
  queue_pending();  // keep the order: what was broadcast before goes first
  for (const auto& m : members_)
    if (wants(m->who())) m->deliver(frame);
  flush_all_ = true;
  schedule_flush();
}

// Moves the pending broadcasts into every member's queue (flushed at the turn's end): before a
// frame for some members only, or a join, so that each member's frames keep the room's order.
void room::queue_pending() {
  if (pending_.empty()) return;
  for (const auto& m : members_)
    for (const auto& p : pending_) m->deliver(p.for_member(m->who().id));
  pending_.clear();
  flush_all_ = true;
}

void room::send_to(const member_ptr& m, frame_ptr frame) {
  queue_pending();
  m->deliver(std::move(frame));
  if (!flush_all_) flush_some_.push_back(m);
  schedule_flush();
}

// The flush runs after whatever else is already queued on the strand: under load, several
// messages reach each socket in one write instead of one write per message.
void room::schedule_flush() {
  if (flush_posted_) return;
  flush_posted_ = true;
  boost::asio::post(strand_, [self = shared_from_this()] { self->flush_members(); });
}

void room::flush_members() {
  flush_posted_ = false;
  if (!pending_.empty() && !flush_all_ && flush_some_.empty()) {
    // The common turn, broadcasts only: one pass, one call and one write per member.
    std::vector<frame_ptr> frames;
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

void room::refuse(const member_ptr& to, std::string_view code, const std::string& message, std::optional<std::int64_t> until_unix) {
  json::object err{{"type", "error"}, {"code", code}, {"message", message}};
  if (until_unix) err["until"] = format_rfc3339(*until_unix);
  // Also called off the strand (a failed publish): this member only, flushed at once.
  to->deliver(std::make_shared<const std::string>(json::serialize(err)));
  to->flush();
}

}  // namespace cohort::live_room

#include "chat/chat_room.hpp"

#include "gateway/auth.hpp"
#include "metrics/metrics.hpp"
#include "registration/rfc3339.hpp"

#include <boost/asio/post.hpp>
#include <boost/json.hpp>

namespace cohort::chat {
namespace json = boost::json;
using registration::format_rfc3339;
using registration::unix_now;

namespace {

std::shared_ptr<const std::string> frame_of(const json::object& o) {
  return std::make_shared<const std::string>(json::serialize(o));
}

json::object from_json(const chat_identity& who) {
  return json::object{{"id", who.id}, {"name", who.name}, {"role", who.role}};
}

}  // namespace

chat_room::chat_room(boost::asio::io_context& ioc, std::int64_t webinar_id, room_options options,
                     metrics::registry* metrics, transcript_sink transcript)
    : strand_(boost::asio::make_strand(ioc)),
      webinar_id_(webinar_id),
      options_(options),
      metrics_(metrics),
      transcript_(std::move(transcript)),
      // The history lives in memory: a new process is a new history, so a new epoch.
      history_(http::hex(http::random_bytes(4)), options.history),
      presence_timer_(strand_) {}

void chat_room::join(std::shared_ptr<room_member> m, std::optional<std::int64_t> since, std::optional<std::string> epoch) {
  boost::asio::post(strand_, [self = shared_from_this(), m = std::move(m), since, epoch = std::move(epoch)] {
    self->members_.insert(m);
    const auto up = self->history_.since(since, epoch, self->options_.hello_messages, unix_now());
    // Frames are already serialized JSON objects: splice them into the hello instead of re-parsing.
    std::string messages = "[";
    for (const auto* msg : up.messages) {
      if (messages.size() > 1) messages += ',';
      messages += *msg->frame;
    }
    messages += ']';
    json::object hello{{"type", "hello"},
                       {"me", from_json(m->who())},
                       {"room", self->webinar_id_},
                       {"seq", self->history_.last_seq()},
                       {"epoch", self->history_.epoch()},
                       {"presence", self->members_.size()},
                       {"recovered", up.recovered},
                       {"messages", json::array{}}};
    auto text = json::serialize(hello);
    const std::string empty = "\"messages\":[]";
    text.replace(text.rfind(empty), empty.size(), "\"messages\":" + messages);
    m->deliver(std::make_shared<const std::string>(std::move(text)));
    self->presence_changed();
  });
}

void chat_room::leave(std::shared_ptr<room_member> m) {
  boost::asio::post(strand_, [self = shared_from_this(), m = std::move(m)] {
    if (self->members_.erase(m)) self->presence_changed();
  });
}

void chat_room::post_message(std::shared_ptr<room_member> from, std::string text, std::string client_id) {
  boost::asio::post(strand_, [self = shared_from_this(), from = std::move(from), text = std::move(text),
                              client_id = std::move(client_id)] { self->do_post_message(from, text, client_id); });
}

void chat_room::do_post_message(const std::shared_ptr<room_member>& from, const std::string& text,
                                const std::string& client_id) {
  const auto& who = from->who();
  // A resend (same person, same client_id) is already in the order: do not deliver it twice.
  if (!client_id.empty() && history_.find_by_client_id(who.id, client_id)) return;
  const auto now = unix_now();
  if (auto it = muted_until_.find(who.id); it != muted_until_.end()) {
    if (it->second > now) return refuse(from, "muted", "you are muted in this chat", it->second);
    muted_until_.erase(it);
  }
  auto& limiter = limiters_[who.id];
  const auto steady_now = rate_limiter::clock::now();
  if (!limiter.allow(steady_now)) {
    const auto wait = std::chrono::ceil<std::chrono::seconds>(limiter.blocked_until() - steady_now).count();
    return refuse(from, "rate_limited", "slow down: at most 3 messages per 2 seconds", now + wait);
  }

  stored_message m;
  m.seq = history_.next_seq();
  m.id = history_.epoch() + "-" + std::to_string(m.seq);
  m.sender_id = who.id;
  m.client_id = client_id;
  m.ts = now;
  json::object msg{{"type", "chat.message"}, {"seq", m.seq},       {"id", m.id},
                   {"from", from_json(who)}, {"text", text},       {"ts", format_rfc3339(now)}};
  if (!client_id.empty()) msg["client_id"] = client_id;
  m.frame = frame_of(msg);
  const auto frame = m.frame;
  if (transcript_) transcript_(transcript_entry{webinar_id_, m.seq, m.id, now, who, text});
  history_.append(std::move(m), now);
  if (metrics_) metrics_->chat_messages.add();
  broadcast(frame);
}

void chat_room::remove_message(std::string id) {
  boost::asio::post(strand_, [self = shared_from_this(), id = std::move(id)] {
    if (self->history_.remove(id)) self->broadcast(frame_of(json::object{{"type", "chat.deleted"}, {"id", id}}));
  });
}

void chat_room::mute(std::int64_t registration_id, std::int64_t until_unix) {
  boost::asio::post(strand_, [self = shared_from_this(), registration_id, until_unix] {
    self->muted_until_[registration_id] = until_unix;
  });
}

void chat_room::kick(std::int64_t registration_id) {
  boost::asio::post(strand_, [self = shared_from_this(), registration_id] {
    for (auto it = self->members_.begin(); it != self->members_.end();) {
      if ((*it)->who().role == "registrant" && (*it)->who().id == registration_id) {
        (*it)->disconnect(4003, "banned");
        it = self->members_.erase(it);
      } else {
        ++it;
      }
    }
    self->presence_changed();
  });
}

void chat_room::broadcast(const std::shared_ptr<const std::string>& frame) {
  for (const auto& m : members_) m->deliver(frame);
}

void chat_room::refuse(const std::shared_ptr<room_member>& to, const char* code, const std::string& message,
                       std::optional<std::int64_t> until_unix) {
  if (metrics_) metrics_->chat_rejected.add();
  json::object err{{"type", "error"}, {"code", code}, {"message", message}};
  if (until_unix) err["until"] = format_rfc3339(*until_unix);
  to->deliver(frame_of(err));
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
  if (members_.size() == presence_sent_) return;
  presence_sent_ = members_.size();
  presence_sent_at_ = std::chrono::steady_clock::now();
  broadcast(frame_of(json::object{{"type", "presence"}, {"count", members_.size()}}));
}

}  // namespace cohort::chat

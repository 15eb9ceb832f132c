#include "live_room/channels/chat/chat_channel.hpp"

#include "common/csv.hpp"
#include "common/describe.hpp"
#include "common/errors.hpp"
#include "common/rfc3339.hpp"
#include "common/text.hpp"
#include "gateway/router.hpp"
#include "live_room/channels/chat/chat_store.hpp"
#include "live_room/revocations.hpp"
#include "metrics/metrics.hpp"
#include "registration/validation.hpp"
#include "registration/webinar_store.hpp"

#include <boost/json.hpp>

#include <iostream>
#include <map>
#include <unordered_map>

namespace cohort::live_room {
namespace json = boost::json;
using http::response;
using common::format_rfc3339;
using common::unix_now;

namespace {

std::int64_t int_member(const json::object& o, std::string_view name) { return o.at(name).to_number<std::int64_t>(); }

json::object identity_json(const member_identity& who) {
  return json::object{{"id", who.id}, {"name", who.name}, {"role", who.role}};
}

}  // namespace

std::string mute_frame(std::int64_t registration_id, std::int64_t until) {
  return json::serialize(json::object{{"type", "x.mute"}, {"registration_id", registration_id}, {"until", until}});
}

std::optional<std::string> valid_chat_text(std::string_view raw, std::string& why) {
  auto text = common::trim(raw);
  if (text.empty()) {
    why = "the message is empty";
    return std::nullopt;
  }
  if (!common::valid_utf8(text)) {
    why = "the message is not valid UTF-8";
    return std::nullopt;
  }
  if (common::has_control_chars(text)) {
    why = "the message must not contain control characters or line breaks";
    return std::nullopt;
  }
  if (common::utf8_length(text) > 500) {
    why = "the message is longer than 500 characters";
    return std::nullopt;
  }
  return text;
}

// One room's chat: mutes, the per-sender flood limiters, and the sends on their way through the bus.
class chat_channel::part : public channel_room {
 public:
  part(chat_channel& channel, room_context& room) : channel_(channel), room_(room) {}

  void on_client(const member_ptr& from, std::string_view, const json::object& msg) override {
    const auto* body = msg.if_contains("text");
    if (!body || !body->is_string()) return reject(from, "invalid", "text must be a string", std::nullopt);
    std::string client_id;
    if (const auto* cid = msg.if_contains("client_id"); cid && !cid->is_null()) {
      if (!cid->is_string() || cid->get_string().size() > 64 || cid->get_string().empty())
        return reject(from, "invalid", "client_id must be a string of 1 to 64 characters", std::nullopt);
      client_id = std::string(cid->get_string());
    }
    std::string why;
    auto text = valid_chat_text(body->get_string(), why);
    if (!text) return reject(from, "invalid", why, std::nullopt);
    send(from, *text, client_id);
  }

  bool on_sequenced(const json::object& o, bool live) override {
    const auto& from = o.at("from").as_object();
    const auto sender = int_member(from, "id");
    member_ptr socket;  // the sender's connection, when the send came through this node
    if (const auto* cid = o.if_contains("client_id")) {
      if (const auto it = in_flight_.find({sender, std::string(cid->get_string())}); it != in_flight_.end()) {
        socket = it->second;
        in_flight_.erase(it);
      }
    }
    if (auto* m = room_.metrics()) m->chat_messages.add();
    if (!channel_.store_) return false;
    transcript_entry e{room_.webinar_id(), int_member(o, "seq"), std::string(o.at("id").as_string()),
                       common::parse_rfc3339(o.at("ts").as_string()).value_or(unix_now()),
                       member_identity{sender, std::string(from.at("name").as_string()), std::string(from.at("role").as_string()), {}},
                       std::string(o.at("text").as_string())};
    auto write = [e](store::database& db) { insert_transcript(db, e); };
    if (!live) {
      // A reload fills in what this node missed; its members already had these.
      if (!channel_.store_->writes.writer->submit(std::move(write), nullptr))
        std::cerr << "cohort: chat transcript write dropped (queue full)\n";
      return false;
    }
    // Live: no one sees the message before its row is committed, so an echo means it survives a
    // crash. A write that fails withdraws it and tells the sender, who can send it again.
    // The failure crosses threads as text: the exception stays on the writer's thread.
    auto release = [this, keep = room_.keep_alive(), id = e.id, socket](std::optional<std::string> failed) {
      room_.post([this, keep, id, socket, failed = std::move(failed)] {
        if (!failed) return room_.release_sequenced(id, nullptr);
        std::cerr << "cohort: chat message withdrawn, its transcript write failed: " << *failed << "\n";
        room_.release_sequenced(id, [this, socket] {
          if (socket) reject(socket, "unavailable", "the chat is briefly unavailable, try again", std::nullopt);
        });
      });
    };
    if (!channel_.store_->writes.writer->submit(std::move(write), [release](std::exception_ptr ep) {
          release(ep ? std::optional(common::describe(ep)) : std::nullopt);
        }))
      release("the write queue is full");
    return true;
  }

  void on_control(std::string_view type, const json::object& o, const frame_ptr& bytes, bool) override {
    if (type == "chat.deleted") {
      if (const auto* id = o.if_contains("id"); id && id->is_string() && room_.remove_from_history(std::string(id->get_string())))
        room_.broadcast(bytes);
    } else if (type == "x.ban") {
      room_.close_members(int_member(o, "registration_id"), 4003, "banned");
    }
  }

  void on_state(const json::object& frame, bool) override {
    auto& until = muted_until_[int_member(frame, "registration_id")];
    until = std::max(until, int_member(frame, "until"));
  }

 private:
  void send(const member_ptr& from, const std::string& text, const std::string& client_id) {
    const auto& who = from->who();
    // A resend (same person, same client_id) is already in the order or on its way: deliver it once.
    if (!client_id.empty() && (room_.in_history(who.id, client_id) || in_flight_.count({who.id, client_id}))) return;
    const auto now = unix_now();
    if (const auto it = muted_until_.find(who.id); it != muted_until_.end() && it->second > now && !who.runs_room())
      return reject(from, "muted", "you are muted in this chat", it->second);
    const auto& flood = channel_.options_.flood;
    // Whoever runs the room is never limited: here, and in the bus (sender 0).
    if (!who.runs_room()) {
      auto& limiter = limiters_.try_emplace(who.id, flood).first->second;
      const auto steady_now = rate_limiter::clock::now();
      if (!limiter.allow(steady_now)) {
        const auto wait = std::chrono::ceil<std::chrono::seconds>(limiter.blocked_until() - steady_now).count();
        return reject(from, "rate_limited",
                      "slow down: at most " + std::to_string(flood.burst) + " messages per " + std::to_string(flood.window.count()) + " ms",
                      now + wait);
      }
    }
    // Serialized once here; the bus puts seq and id in front, and every node delivers those bytes.
    json::object body{{"from", identity_json(who)}, {"text", text}, {"ts", format_rfc3339(now)}};
    if (!client_id.empty()) body["client_id"] = client_id;
    auto tail = json::serialize(body).substr(1);
    if (!client_id.empty()) in_flight_.emplace(std::pair{who.id, client_id}, from);
    const flood_limit limit{who.runs_room() ? 0 : who.id, flood.burst, static_cast<int>(flood.window.count()),
                            static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(flood.penalty).count())};
    room_.publish_sequenced("chat.message", std::move(tail), limit, [this, keep = room_.keep_alive(), from, id = who.id, client_id](published p) {
      if (p.ok) return;  // the message comes back through the bus like everyone else's
      room_.post([this, keep, id, client_id] { in_flight_.erase({id, client_id}); });
      const auto& flood = channel_.options_.flood;
      if (p.blocked_ms > 0)
        return reject(from, "rate_limited",
                      "slow down: at most " + std::to_string(flood.burst) + " messages per " + std::to_string(flood.window.count()) +
                          " ms, counting all your connections",
                      unix_now() + (p.blocked_ms + 999) / 1000);
      reject(from, "unavailable", "the chat is briefly unavailable, try again", std::nullopt);
    });
  }

  void reject(const member_ptr& to, const char* code, const std::string& message, std::optional<std::int64_t> until) {
    if (auto* m = room_.metrics()) m->chat_rejected.add();
    room_.refuse(to, code, message, until);
  }

  chat_channel& channel_;
  room_context& room_;
  std::unordered_map<std::int64_t, std::int64_t> muted_until_;  // registration -> unix
  std::unordered_map<std::int64_t, rate_limiter> limiters_;     // by sender
  std::map<std::pair<std::int64_t, std::string>, member_ptr> in_flight_;  // (sender, client_id) being published, by whom
};

chat_channel::chat_channel(chat_options options, room_bus* bus, std::optional<store_access> store, metrics::registry* metrics)
    : options_(options), bus_(bus), store_(std::move(store)), metrics_(metrics) {}

channel_types chat_channel::types() const { return {{"chat.send"}, {"chat.message"}, {"chat.deleted", "x.ban"}, {"x.mute"}}; }

std::string chat_channel::state_field(const json::object& frame) const {
  return "mute:" + std::to_string(int_member(frame, "registration_id"));
}

std::vector<std::string> chat_channel::stored_state(std::int64_t webinar_id) const {
  if (!store_) return {};
  auto db = store_->readers->acquire();
  return mute_frames(*db, webinar_id, unix_now());
}

std::unique_ptr<channel_room> chat_channel::open(room_context& room) { return std::make_unique<part>(*this, room); }

void chat_channel::add_routes(http::router& r) {
  using http::access;
  using http::verb;
  r.add(verb::del, "/api/webinars/{id}/chat/{message}", {access::organizer, false}, &chat_channel::delete_message, this);
  r.add(verb::post, "/api/webinars/{id}/mutes", {access::organizer, true}, &chat_channel::mute, this);
  r.add(verb::post, "/api/webinars/{id}/bans", {access::organizer, true}, &chat_channel::ban, this);
  r.add(verb::get, "/api/webinars/{id}/chat.csv", {access::organizer, false}, &chat_channel::export_csv, this);
}

void chat_channel::delete_message(http::request& req, http::responder& respond) {
  const auto webinar_id = req.id_param(0);
  const auto message_id = req.params.at(1);
  registration::queue_write<bool>(
      store_->writes, respond,
      [webinar_id, message_id](store::database& db) {
        if (!mark_deleted(db, webinar_id, message_id)) throw common::not_found("no such chat message");
        return true;
      },
      [bus = bus_, webinar_id, message_id](bool) {
        bus->publish_control(webinar_id, json::serialize(json::object{{"type", "chat.deleted"}, {"id", message_id}}));
        return response::no_content();
      });
}

std::int64_t chat_channel::registration_in_body(http::request& req) {
  const auto* v = req.json.if_contains("registration_id");
  if (!v || !v->is_int64() || v->get_int64() < 1)
    throw common::invalid("registration_id", "registration_id must be a registration's id");
  const auto id = v->get_int64();
  auto db = store_->readers->acquire();
  if (!registration::find_webinar(*db, req.id_param(0))) throw common::not_found("no such webinar");
  auto st = db->prepare("SELECT 1 FROM registrations WHERE id = ? AND webinar_id = ?");
  st.bind(1, id).bind(2, req.id_param(0));
  if (!st.step()) throw common::invalid("registration_id", "no such registration in this webinar");
  return id;
}

void chat_channel::mute(http::request& req, http::responder& respond) {
  const auto id = registration_in_body(req);
  const auto* m = req.json.if_contains("minutes");
  if (!m || !m->is_int64() || m->get_int64() < 1 || m->get_int64() > 1440)
    throw common::invalid("minutes", "minutes must be between 1 and 1440");
  const auto until = unix_now() + m->get_int64() * 60;
  const auto webinar_id = req.id_param(0);
  registration::queue_write<bool>(
      store_->writes, respond,
      [webinar_id, id, until](store::database& db) {
        set_mute(db, webinar_id, id, until);
        return true;
      },
      [bus = bus_, webinar_id, id, until](bool) {
        bus->publish_state(webinar_id, "mute:" + std::to_string(id), mute_frame(id, until));
        return response::json(201, json::object{{"registration_id", id}, {"until", format_rfc3339(until)}});
      });
}

void chat_channel::ban(http::request& req, http::responder& respond) {
  const auto id = registration_in_body(req);
  const auto webinar_id = req.id_param(0);
  registration::queue_write<bool>(
      store_->writes, respond,
      [webinar_id, id](store::database& db) {
        add_ban(db, webinar_id, id, unix_now());
        return true;
      },
      [bus = bus_, webinar_id, id](bool) {
        bus->revoke(ban_entry(webinar_id, id));
        bus->publish_control(webinar_id, json::serialize(json::object{{"type", "x.ban"}, {"registration_id", id}}));
        return response::json(201, json::object{{"registration_id", id}});
      });
}

void chat_channel::export_csv(http::request& req, http::responder& respond) {
  const auto webinar_id = req.id_param(0);
  auto db = store_->readers->acquire();
  if (!registration::find_webinar(*db, webinar_id)) throw common::not_found("no such webinar");
  std::string csv;
  common::append_csv_row(csv, {"seq", "id", "sent_at", "from_id", "from_name", "role", "text", "deleted"});
  for_each_transcript(*db, webinar_id, [&csv](const transcript_row& row) {
    common::append_csv_row(csv, {std::to_string(row.seq), row.message_id, format_rfc3339(row.sent_at), std::to_string(row.from_id),
                                       row.from_name, row.role, row.text, row.deleted ? "true" : "false"});
  });
  auto res = response::text(200, std::move(csv), "text/csv; charset=utf-8");
  res.headers.emplace_back("Content-Disposition", "attachment; filename=\"webinar-" + std::to_string(webinar_id) + "-chat.csv\"");
  respond(std::move(res));
}

}  // namespace cohort::live_room

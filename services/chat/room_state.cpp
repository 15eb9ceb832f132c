#include "chat/room_state.hpp"

#include "chat/chat_room.hpp"
#include "common/rfc3339.hpp"

#include <boost/json.hpp>

namespace cohort::chat {
namespace json = boost::json;

namespace {

std::int64_t int_member(const json::object& o, std::string_view name) {
  return o.at(name).to_number<std::int64_t>();
}

}  // namespace

std::string mute_frame(std::int64_t registration_id, std::int64_t until) {
  return json::serialize(json::object{{"type", "x.mute"}, {"registration_id", registration_id}, {"until", until}});
}

std::string seen_frame(std::int64_t registration_id, std::int64_t at) {
  return json::serialize(json::object{{"type", "x.seen"}, {"registration_id", registration_id}, {"at", at}});
}

std::string state_field(const json::object& frame) {
  const auto type = frame.at("type").as_string();
  if (type == "x.drop") return "drop:" + std::to_string(int_member(frame.at("drop").as_object(), "id"));
  if (type == "x.mute") return "mute:" + std::to_string(int_member(frame, "registration_id"));
  if (type == "x.seen") return "seen:" + std::to_string(int_member(frame, "registration_id"));
  if (type == "x.stream") return "stream";
  throw std::invalid_argument("not a state frame");
}

std::string stream_frame(bool live, std::int64_t at_ms, std::int64_t started_at, std::optional<int> session) {
  json::object status{{"live", live}, {"started_at", common::format_rfc3339(started_at)}, {"session", nullptr}};
  if (session) status["session"] = *session;
  return json::serialize(json::object{{"type", "x.stream"}, {"at", at_ms}, {"status", std::move(status)}});
}

bool room_state::apply_stream(const json::object& frame) {
  const auto at = int_member(frame, "at");
  if (at <= stream_at_ms_) return false;
  const auto& status = frame.at("status").as_object();
  json::object event{{"type", "stream.status"}};
  for (const auto& [k, v] : status) event[k] = v;
  stream_at_ms_ = at;
  stream_live_ = status.at("live").as_bool();
  stream_event_ = std::make_shared<const std::string>(json::serialize(event));
  return true;
}

const room_state::drop* room_state::apply(const json::object& frame) {
  const auto type = frame.at("type").as_string();
  if (type == "x.stream") {
    apply_stream(frame);
    return nullptr;
  }
  if (type == "x.mute") {
    auto& until = muted_until_[int_member(frame, "registration_id")];
    until = std::max(until, int_member(frame, "until"));
    return nullptr;
  }
  if (type == "x.seen") {
    auto& at = seen_until_[int_member(frame, "registration_id")];
    at = std::max(at, int_member(frame, "at"));
    return nullptr;
  }
  if (type != "x.drop") return nullptr;
  const auto& body = frame.at("drop").as_object();
  drop d;
  d.id = int_member(body, "id");
  if (drop_ids_.count(d.id)) return nullptr;  // released once; a repeat changes nothing
  const auto released = common::parse_rfc3339(body.at("released_at").as_string());
  if (!released) throw std::invalid_argument("x.drop: released_at is not RFC 3339");
  d.released_at = *released;
  if (const auto* to = frame.if_contains("to"); to && to->is_array()) {
    d.audience.emplace();
    for (const auto& id : to->as_array()) d.audience->insert(id.to_number<std::int64_t>());
  }
  d.body = body;
  json::object event_body = body;
  event_body["seen"] = false;
  d.event = std::make_shared<const std::string>(json::serialize(json::object{{"type", "drop"}, {"drop", std::move(event_body)}}));
  drop_ids_.insert(d.id);
  const auto key = std::make_pair(d.released_at, d.id);
  return &drops_.emplace(key, std::move(d)).first->second;
}

std::optional<std::int64_t> room_state::muted_until(std::int64_t registration_id, std::int64_t now) const {
  const auto it = muted_until_.find(registration_id);
  if (it == muted_until_.end() || it->second <= now) return std::nullopt;
  return it->second;
}

bool room_state::is_for(const drop& d, const chat_identity& who) const {
  if (who.role == "organizer") return true;
  return !d.audience || d.audience->count(who.id) > 0;
}

json::array room_state::drops_for(const chat_identity& who) const {
  json::array out;
  const auto seen_it = seen_until_.find(who.id);
  const std::int64_t seen_until = seen_it == seen_until_.end() ? 0 : seen_it->second;
  for (auto it = drops_.rbegin(); it != drops_.rend(); ++it) {
    if (!is_for(it->second, who)) continue;
    json::object d = it->second.body;
    d["seen"] = who.role == "organizer" || it->second.released_at <= seen_until;
    out.push_back(std::move(d));
  }
  return out;
}

}  // namespace cohort::chat

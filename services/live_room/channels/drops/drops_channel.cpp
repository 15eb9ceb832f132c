#include "live_room/channels/drops/drops_channel.hpp"

#include "common/rfc3339.hpp"

#include <boost/json.hpp>

#include <map>
#include <unordered_map>
#include <unordered_set>

namespace cohort::live_room {
namespace json = boost::json;

namespace {

std::int64_t int_member(const json::object& o, std::string_view name) { return o.at(name).to_number<std::int64_t>(); }

}  // namespace

std::string drop_frame(json::object registrant_view, json::value to) {
  return json::serialize(json::object{{"type", "x.drop"}, {"drop", std::move(registrant_view)}, {"to", std::move(to)}});
}

std::string seen_frame(std::int64_t registration_id, std::int64_t at) {
  return json::serialize(json::object{{"type", "x.seen"}, {"registration_id", registration_id}, {"at", at}});
}

std::string drops_channel::state_field(const json::object& frame) const {
  if (frame.at("type").as_string() == "x.drop") return "drop:" + std::to_string(int_member(frame.at("drop").as_object(), "id"));
  return "seen:" + std::to_string(int_member(frame, "registration_id"));
}

// One room's drops. Grow-only: a drop is released once, a seen marker only moves forward.
class drops_channel::part : public channel_room {
 public:
  explicit part(room_context& room) : room_(room) {}

  void on_state(const json::object& frame, bool live) override {
    if (frame.at("type").as_string() == "x.seen") {
      auto& at = seen_until_[int_member(frame, "registration_id")];
      at = std::max(at, int_member(frame, "at"));
      return;
    }
    const auto* released = apply_drop(frame);
    if (!released || !live) return;
    room_.send_where(released->event, [released](const member_identity& who) { return is_for(*released, who); });
  }

  void add_to_hello(const member_identity& who, json::object& hello) override {
    json::array out;
    const auto seen_it = seen_until_.find(who.id);
    const std::int64_t seen_until = seen_it == seen_until_.end() ? 0 : seen_it->second;
    for (auto it = drops_.rbegin(); it != drops_.rend(); ++it) {
      if (!is_for(it->second, who)) continue;
      json::object d = it->second.body;
      d["seen"] = who.runs_room() || it->second.released_at <= seen_until;
      out.push_back(std::move(d));
    }
    hello["drops"] = std::move(out);
  }

 private:
  struct drop {
    std::int64_t id = 0;
    std::int64_t released_at = 0;
    std::optional<std::unordered_set<std::int64_t>> audience;  // registration ids; nullopt = everyone
    json::object body;                                         // the registrant's view, without "seen"
    frame_ptr event;                                           // {"type":"drop","drop":{...,"seen":false}}, serialized once
  };

  static bool is_for(const drop& d, const member_identity& who) {
    return who.runs_room() || !d.audience || d.audience->count(who.id) > 0;
  }

  // The drop this frame released for the first time, else nullptr. Throws on a malformed frame.
  const drop* apply_drop(const json::object& frame) {
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

  room_context& room_;
  std::unordered_map<std::int64_t, std::int64_t> seen_until_;    // registration -> unix
  std::map<std::pair<std::int64_t, std::int64_t>, drop> drops_;  // (released_at, id) -> drop, oldest first
  std::unordered_set<std::int64_t> drop_ids_;
};

std::unique_ptr<channel_room> drops_channel::open(room_context& room) { return std::make_unique<part>(room); }

}  // namespace cohort::live_room

// The channels of a node's live rooms, and the flat type -> channel maps the rooms dispatch
// through. Filled at start-up (add), then read-only and shared by every room and thread.
#pragma once

#include "live_room/channel.hpp"

#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace cohort::live_room {

class channel_registry {
 public:
  enum class kind { client, sequenced, control, state };
  struct route {
    std::size_t channel = 0;  // index into channels()
    kind what = kind::client;
  };

  // Before the first room opens. Throws std::logic_error when a type is already taken.
  void add(std::shared_ptr<channel> c);

  const std::vector<std::shared_ptr<channel>>& channels() const { return channels_; }
  // nullptr: no channel handles this client message type.
  const route* client_route(std::string_view type) const { return find(client_, type); }
  // "chat.send, ...": for the error a client gets for a type no channel handles.
  const std::string& client_types_text() const { return client_types_text_; }
  // nullptr: no channel applies this bus event type.
  const route* event_route(std::string_view type) const { return find(events_, type); }
  // The field the bus keeps a state frame under; throws std::invalid_argument when no channel
  // owns the frame's type.
  std::string state_field(const boost::json::object& frame) const;
  // Every channel's stored state for a webinar (primary).
  std::vector<std::string> stored_state(std::int64_t webinar_id) const;
  // Publishes every channel's stored state of these webinars (primary, after a reconnect).
  void republish(room_bus& bus, const std::vector<std::int64_t>& webinar_ids) const;
  void add_routes(http::router& r) const;

 private:
  struct type_hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  using route_map = std::unordered_map<std::string, route, type_hash, std::equal_to<>>;
  static const route* find(const route_map& m, std::string_view type) {
    const auto it = m.find(type);
    return it == m.end() ? nullptr : &it->second;
  }

  std::vector<std::shared_ptr<channel>> channels_;
  route_map client_;
  route_map events_;
  std::string client_types_text_;
};

}  // namespace cohort::live_room

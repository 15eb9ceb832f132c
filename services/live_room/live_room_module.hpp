// The live room as a node module: the WebSocket hub (/ws, one room per webinar), its channels,
// and the node's place in the cluster (the bus's node feed: revocations, rooms in use, what the
// primary re-publishes after a reconnect). main lists the channels with add_channel, once,
// before start; the room knows none of them by name.
// On the primary (node.writer set) the rooms start from the channels' stored state, host every
// room in use on any node, and follow the registration events (tokens revoked, sockets closed).
// On an edge (no database) tokens are checked by signature and the cluster's revocation list.
#pragma once

#include "live_room/channel_registry.hpp"
#include "live_room/room_hub.hpp"
#include "node/module.hpp"
#include "node/node_services.hpp"

#include <functional>
#include <memory>
#include <optional>
#include <vector>

namespace cohort::live_room {

class live_room_module : public node::module {
 public:
  explicit live_room_module(const node::node_services& node);

  void add(std::shared_ptr<channel> c) { channels_.add(std::move(c)); }
  template <class Channel, class... Args>
  std::shared_ptr<Channel> add_channel(Args&&... args) {
    auto c = std::make_shared<Channel>(std::forward<Args>(args)...);
    channels_.add(c);
    return c;
  }
  // After the bus (re)connected, on the primary: more to put back besides the channels' stored
  // state (the stream's live status, which only the streaming module knows).
  void on_republish(std::function<void(room_bus&)> also) { republish_also_.push_back(std::move(also)); }

  void add_routes(http::router& r) override;
  void start() override;
  void stop() override { hub_->stop(); }

  http::upgrade_result upgrade(http::request& req) { return hub_->upgrade(req); }
  // For /readyz: the bus is up and (on an edge) the revocation list is confirmed.
  bool ready() const;

 private:
  void watch_cluster();
  void republish();

  const node::node_services& node_;
  channel_registry channels_;
  std::unique_ptr<room_hub> hub_;
  std::vector<std::function<void(room_bus&)>> republish_also_;
};

// A channel's access to the primary's database; none on an edge.
inline std::optional<store_access> store_of(const node::node_services& node) {
  if (!node.writer) return std::nullopt;
  return store_access{node.writes(), node.readers};
}

// The chat channel with [chat]'s flood limit, and on the primary the transcript store.
std::shared_ptr<class chat_channel> make_chat_channel(const node::node_services& node);

}  // namespace cohort::live_room

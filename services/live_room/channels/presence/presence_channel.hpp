// The presence channel: how many people are in the room across all nodes. A person counts once
// however many sockets they hold on a node (a registrant with three tabs is one). Each node
// reports its count to the bus, which adds them up; the total goes out as
// {"type":"presence","count":N} when it changed, at most once per interval, and in every hello.
// A node whose count changed tells the others to recount (x.presence).
#pragma once

#include "live_room/channel.hpp"

#include <chrono>

namespace cohort::live_room {

struct presence_options {
  std::chrono::milliseconds interval{1000};  // at most one presence frame per interval ...
  // ... and in a big room at most about this many presence deliveries per second: the interval
  // grows with the room, so a join storm costs each join O(1), not a frame to everyone.
  std::size_t deliveries_per_second = 2000;
};

class presence_channel : public channel {
 public:
  explicit presence_channel(presence_options options = {}) : options_(options) {}

  std::string_view name() const override { return "presence"; }
  channel_types types() const override { return {{}, {}, {"x.presence"}, {}}; }
  std::unique_ptr<channel_room> open(room_context& room) override;

  // The wait between two presence frames in a room of `members` (see presence_options).
  std::chrono::milliseconds interval_for(std::size_t members) const;

 private:
  class part;
  presence_options options_;
};

}  // namespace cohort::live_room

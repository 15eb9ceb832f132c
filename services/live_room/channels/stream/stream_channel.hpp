// The stream channel: whether the webinar's live stream is on. streaming/ publishes x.stream
// state frames (stream_frame); the room pushes {"type":"stream.status",...} to everyone when it
// changes, and to a member right after its hello while the stream is live (the player starts at
// once). Unlike other state it is not grow-only: the frame with the latest "at" (ms) wins.
#pragma once

#include "live_room/channel.hpp"

#include <optional>
#include <string>

namespace cohort::live_room {

// {"type":"x.stream","at":MS,"status":{"live":...,"started_at":"...","session":N|null}}
std::string stream_frame(bool live, std::int64_t at_ms, std::int64_t started_at, std::optional<int> session);

class stream_channel : public channel {
 public:
  std::string_view name() const override { return "stream"; }
  channel_types types() const override { return {{}, {}, {}, {"x.stream"}}; }
  std::string state_field(const boost::json::object&) const override { return "stream"; }
  std::unique_ptr<channel_room> open(room_context& room) override;

 private:
  class part;
};

}  // namespace cohort::live_room

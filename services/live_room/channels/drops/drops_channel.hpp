// The drops channel: bonus material released to the room. Its state frames are x.drop (a
// released drop and whom it is for) and x.seen (how far a registrant has seen the drops); a
// drop's first arrival is pushed as {"type":"drop"} to the members it is for, and every hello
// carries "drops": the ones released to that member, newest first, each with "seen".
// drops/ (API, scheduler, store) publishes these frames; the channel owns their shape.
#pragma once

#include "live_room/channel.hpp"

#include <boost/json/array.hpp>
#include <boost/json/value.hpp>

#include <functional>
#include <optional>
#include <string>

namespace cohort::live_room {

// {"type":"x.drop","drop":{registrant view},"to":[R,...]|null}
std::string drop_frame(boost::json::object registrant_view, boost::json::value to);
// {"type":"x.seen","registration_id":R,"at":UNIX}
std::string seen_frame(std::int64_t registration_id, std::int64_t at);

class drops_channel : public channel {
 public:
  // The x.drop and x.seen frames the store holds for a webinar (primary; empty on an edge).
  using state_loader = std::function<std::vector<std::string>(std::int64_t webinar_id)>;
  explicit drops_channel(state_loader load = {}) : load_(std::move(load)) {}

  std::string_view name() const override { return "drops"; }
  channel_types types() const override { return {{}, {}, {}, {"x.drop", "x.seen"}}; }
  std::string state_field(const boost::json::object& frame) const override;
  std::vector<std::string> stored_state(std::int64_t webinar_id) const override { return load_ ? load_(webinar_id) : std::vector<std::string>{}; }
  std::unique_ptr<channel_room> open(room_context& room) override;

 private:
  class part;
  state_loader load_;
};

}  // namespace cohort::live_room

// The attendance channel: who is in the live room, by minute. Each node's room reports its
// registrants a second after they join (a join storm becomes one frame) and then once a minute
// while they stay, as {"type":"x.present","ids":[...],"minute":UNIX/60} through the bus. The
// primary hosts every room in use on any node, so its rooms hear every node's reports: it
// records them (attendance.min_minutes decides who attended) and remembers who was seen when,
// for the live stream's viewer count.
#pragma once

#include "live_room/channel.hpp"

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

namespace cohort::live_room {

class attendance_channel : public channel {
 public:
  // Writes one report (primary); empty on an edge, which records nothing.
  using recorder = std::function<void(std::int64_t webinar_id, std::vector<std::int64_t> registration_ids, std::int64_t minute)>;
  explicit attendance_channel(recorder record = {});

  std::string_view name() const override { return "attendance"; }
  channel_types types() const override { return {{}, {}, {"x.present"}, {}}; }
  std::unique_ptr<channel_room> open(room_context& room) override;

  // The registration ids a room on any node reported present within `window` before now.
  // Primary only (empty elsewhere). Thread-safe.
  std::vector<std::int64_t> recently_present(std::int64_t webinar_id, std::chrono::seconds window) const;

 private:
  class part;
  void heard(std::int64_t webinar_id, std::vector<std::int64_t> ids, std::int64_t minute);

  recorder record_;
  // Who the rooms reported present, per webinar: registration id -> when the last report came.
  static constexpr std::chrono::minutes keep_{5};
  mutable std::mutex seen_mutex_;
  std::map<std::int64_t, std::map<std::int64_t, std::chrono::steady_clock::time_point>> seen_;
};

}  // namespace cohort::live_room

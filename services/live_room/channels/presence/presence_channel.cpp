#include "live_room/channels/presence/presence_channel.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/json.hpp>

#include <algorithm>
#include <unordered_map>

namespace cohort::live_room {
namespace json = boost::json;

std::chrono::milliseconds presence_channel::interval_for(std::size_t members) const {
  const auto per_room = std::chrono::milliseconds(members * 1000 / std::max<std::size_t>(1, options_.deliveries_per_second));
  return std::max(options_.interval, per_room);
}

// One room's presence. The count is the total the bus last reported, corrected by what changed
// here since; a heartbeat keeps this node's share fresh in the bus.
class presence_channel::part : public channel_room {
 public:
  part(const presence_channel& channel, room_context& room)
      : channel_(channel), room_(room), timer_(room.executor()), heartbeat_(room.executor()) {}

  void on_join(const member_ptr& m) override {
    if (sockets_[m->who().id]++ == 0) changed();
  }

  void on_leave(const member_ptr& m) override {
    const auto it = sockets_.find(m->who().id);
    if (it == sockets_.end() || --it->second > 0) return;
    sockets_.erase(it);
    changed();
  }

  void add_to_hello(const member_identity&, json::object& hello) override {
    const auto here = total_ + sockets_.size();
    hello["presence"] = here - std::min(local_reported_, here);
  }

  void on_control(std::string_view, const json::object&, const frame_ptr&, bool) override { changed(); }

  void on_stop() override {
    timer_.cancel();
    heartbeat_.cancel();
    // Nothing is reported: an idle room's last report was already 0, and a deleted series'
    // presence key is gone from the bus (a report would bring it back).
    stopped_ = true;
  }

 private:
  void changed() {
    if (timer_armed_ || stopped_) return;  // the pending send will carry the latest count
    const auto due = sent_at_ + channel_.interval_for(room_.members().size());
    if (std::chrono::steady_clock::now() >= due) return send();
    timer_armed_ = true;
    timer_.expires_at(due);
    timer_.async_wait([this, keep = room_.keep_alive()](boost::system::error_code ec) {
      timer_armed_ = false;
      if (!ec) send();
    });
  }

  void send() {
    sent_at_ = std::chrono::steady_clock::now();
    const auto local = sockets_.size();
    const bool local_changed = local != local_reported_;
    room_.bus().count_presence(room_.webinar_id(), local, [this, keep = room_.keep_alive(), local, local_changed](std::size_t total) {
      room_.post([this, keep, total, local, local_changed] { on_total(total, local, local_changed); });
    });
    arm_heartbeat();
  }

  void on_total(std::size_t total, std::size_t local_reported, bool local_changed) {
    if (stopped_) return;
    total_ = total;
    local_reported_ = local_reported;
    // Tell the other nodes' rooms to recount: their members should see this change too.
    if (local_changed) room_.publish_control("{\"type\":\"x.presence\"}");
    if (total == sent_) return;
    sent_ = total;
    room_.broadcast(std::make_shared<const std::string>(json::serialize(json::object{{"type", "presence"}, {"count", total}})));
  }

  void arm_heartbeat() {
    if (heartbeat_armed_ || sockets_.empty()) return;
    heartbeat_armed_ = true;
    heartbeat_.expires_after(std::chrono::seconds(10));
    heartbeat_.async_wait([this, keep = room_.keep_alive()](boost::system::error_code ec) {
      heartbeat_armed_ = false;
      if (!ec) changed();
    });
  }

  const presence_channel& channel_;
  room_context& room_;
  std::unordered_map<std::int64_t, std::size_t> sockets_;  // person (registration id; 0: the organizer) -> sockets here
  boost::asio::steady_timer timer_;
  boost::asio::steady_timer heartbeat_;
  bool timer_armed_ = false;
  bool heartbeat_armed_ = false;
  bool stopped_ = false;
  std::size_t sent_ = 0;            // the total members last heard
  std::size_t total_ = 0;           // the last total the bus reported
  std::size_t local_reported_ = 0;  // this node's count in that report
  std::chrono::steady_clock::time_point sent_at_{};
};

std::unique_ptr<channel_room> presence_channel::open(room_context& room) { return std::make_unique<part>(*this, room); }

}  // namespace cohort::live_room

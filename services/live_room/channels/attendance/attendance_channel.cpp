#include "live_room/channels/attendance/attendance_channel.hpp"

#include "common/rfc3339.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/json.hpp>

#include <set>

namespace cohort::live_room {
namespace json = boost::json;

attendance_channel::attendance_channel(recorder record) : record_(std::move(record)) {}

void attendance_channel::heard(std::int64_t webinar_id, std::vector<std::int64_t> ids, std::int64_t minute) {
  if (!record_) return;
  {
    const auto now = std::chrono::steady_clock::now();
    std::lock_guard lock(seen_mutex_);
    auto& w = seen_[webinar_id];
    std::erase_if(w, [cutoff = now - keep_](const auto& kv) { return kv.second < cutoff; });
    for (const auto id : ids) w[id] = now;
  }
  record_(webinar_id, std::move(ids), minute);
}

std::vector<std::int64_t> attendance_channel::recently_present(std::int64_t webinar_id, std::chrono::seconds window) const {
  const auto cutoff = std::chrono::steady_clock::now() - window;
  std::vector<std::int64_t> out;
  std::lock_guard lock(seen_mutex_);
  if (const auto w = seen_.find(webinar_id); w != seen_.end())
    for (const auto& [id, at] : w->second)
      if (at >= cutoff) out.push_back(id);
  return out;
}

class attendance_channel::part : public channel_room {
 public:
  part(attendance_channel& channel, room_context& room)
      : channel_(channel), room_(room), minute_timer_(room.executor()), arrivals_timer_(room.executor()) {}

  void on_join(const member_ptr& m) override {
    if (m->who().role == "registrant") note_arrival(m->who().id);
    arm_minute();
  }

  void on_control(std::string_view, const json::object& o, const frame_ptr&, bool) override {
    std::vector<std::int64_t> ids;
    for (const auto& id : o.at("ids").as_array()) ids.push_back(id.to_number<std::int64_t>());
    channel_.heard(room_.webinar_id(), std::move(ids), o.at("minute").to_number<std::int64_t>());
  }

  void on_stop() override {
    minute_timer_.cancel();
    arrivals_timer_.cancel();
  }

 private:
  void report(std::vector<std::int64_t> ids) {
    if (ids.empty()) return;
    json::array list;
    for (auto id : ids) list.push_back(id);
    room_.publish_control(json::serialize(json::object{{"type", "x.present"}, {"ids", std::move(list)}, {"minute", common::unix_now() / 60}}));
  }

  // Arrivals are reported a second later, together: a join storm becomes one frame, and when this
  // room is the first in the cluster, the primary has meanwhile subscribed to it (x.room).
  void note_arrival(std::int64_t registration_id) {
    arrivals_.insert(registration_id);
    if (arrivals_armed_) return;
    arrivals_armed_ = true;
    arrivals_timer_.expires_after(std::chrono::seconds(1));
    arrivals_timer_.async_wait([this, keep = room_.keep_alive()](boost::system::error_code ec) {
      arrivals_armed_ = false;
      if (ec) return;
      report({arrivals_.begin(), arrivals_.end()});
      arrivals_.clear();
    });
  }

  void arm_minute() {
    if (minute_armed_ || room_.members().empty()) return;
    minute_armed_ = true;
    minute_timer_.expires_after(std::chrono::seconds(60));
    minute_timer_.async_wait([this, keep = room_.keep_alive()](boost::system::error_code ec) {
      minute_armed_ = false;
      if (ec) return;
      std::set<std::int64_t> here;
      for (const auto& m : room_.members())
        if (m->who().role == "registrant") here.insert(m->who().id);
      report({here.begin(), here.end()});
      arm_minute();
    });
  }

  attendance_channel& channel_;
  room_context& room_;
  boost::asio::steady_timer minute_timer_;  // each minute: who is here
  boost::asio::steady_timer arrivals_timer_;
  bool minute_armed_ = false;
  bool arrivals_armed_ = false;
  std::set<std::int64_t> arrivals_;
};

std::unique_ptr<channel_room> attendance_channel::open(room_context& room) { return std::make_unique<part>(*this, room); }

}  // namespace cohort::live_room

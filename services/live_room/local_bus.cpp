#include "live_room/room_bus.hpp"

#include "common/bytes.hpp"
#include "gateway/auth.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <deque>
#include <mutex>
#include <set>
#include <unordered_map>

namespace cohort::live_room {
namespace {

// One node: the order is the order of publish() calls, which each room makes from its strand.
// Like Redis it keeps each webinar's recent sequenced frames (and deleted ids) after its room
// was dropped for idleness, so the room made for the next member starts from the same history.
class local_bus : public room_bus {
 public:
  explicit local_bus(std::size_t history_max) : history_max_(std::max<std::size_t>(1, history_max)) {}

  void watch(std::int64_t webinar_id, room_feed feed) override {
    std::lock_guard lock(mutex_);
    auto& room = rooms_[webinar_id];
    // The history lives in memory: a new process is a new history, so a new epoch.
    if (room.epoch.empty()) room.epoch = common::hex(common::random_bytes(4));
    room.feed = std::move(feed);
    // State comes from the database (one node: the primary).
    room.feed.on_loaded(room.epoch, room.last_seq, {room.log.begin(), room.log.end()}, {room.deleted.begin(), room.deleted.end()}, {});
  }

  void unwatch(std::int64_t webinar_id) override {
    std::lock_guard lock(mutex_);
    if (auto it = rooms_.find(webinar_id); it != rooms_.end()) it->second.feed = {};
  }

  void forget(std::int64_t webinar_id) override {
    std::lock_guard lock(mutex_);
    rooms_.erase(webinar_id);
  }

  // One node: the room's own flood limiter already sees all of a sender's messages.
  void publish(std::int64_t webinar_id, std::string type, std::string tail, flood_limit, std::function<void(published)> done) override {
    std::string id;
    std::int64_t seq = 0;
    {
      std::lock_guard lock(mutex_);
      auto it = rooms_.find(webinar_id);
      if (it == rooms_.end() || !it->second.feed.on_event) return done({});
      auto& room = it->second;
      seq = ++room.last_seq;
      id = room.epoch + "-" + std::to_string(seq);
      room.log.push_back("{\"type\":\"" + type + "\",\"seq\":" + std::to_string(seq) + ",\"id\":\"" + id + "\"," + tail);
      if (room.log.size() > history_max_) room.log.pop_front();
      // Delivered under the lock so two publishers cannot hand their frames over out of order.
      room.feed.on_event(room.log.back());
    }
    done({true, seq, std::move(id), 0});
  }

  void publish_control(std::int64_t webinar_id, std::string frame) override {
    std::lock_guard lock(mutex_);
    auto it = rooms_.find(webinar_id);
    if (it == rooms_.end()) return;
    // A deletion is also remembered, so a room that loads the history later leaves it out.
    if (frame.find("\"chat.deleted\"") != std::string::npos) {
      boost::system::error_code ec;
      const auto v = boost::json::parse(frame, ec);
      if (!ec && v.is_object() && v.at("type") == "chat.deleted" && v.as_object().contains("id"))
        it->second.deleted.insert(std::string(v.at("id").as_string()));
    }
    if (it->second.feed.on_event) it->second.feed.on_event(std::move(frame));
  }

  void publish_state(std::int64_t webinar_id, std::string, std::string frame) override {
    publish_control(webinar_id, std::move(frame));
  }

  void watch_node(node_feed feed) override {
    std::lock_guard lock(mutex_);
    node_ = std::move(feed);
  }

  void revoke(std::string entry) override {
    std::lock_guard lock(mutex_);
    if (node_.on_revoked) node_.on_revoked({std::move(entry)}, false);
  }

  void count_presence(std::int64_t, std::size_t local, std::function<void(std::size_t)> done) override { done(local); }

  bool available() const override { return true; }

 private:
  struct room_state {
    std::string epoch;
    std::int64_t last_seq = 0;
    room_feed feed;                  // empty while no room watches
    std::deque<std::string> log;     // the last history_max_ sequenced frames
    std::set<std::string> deleted;   // ids deleted among them (and before: harmless)
  };
  const std::size_t history_max_;
  std::mutex mutex_;
  std::unordered_map<std::int64_t, room_state> rooms_;
  node_feed node_;
};

}  // namespace

std::unique_ptr<room_bus> make_local_bus(std::size_t history_max) { return std::make_unique<local_bus>(history_max); }

}  // namespace cohort::live_room

#include "chat/chat_bus.hpp"

#include "common/bytes.hpp"
#include "gateway/auth.hpp"

#include <mutex>
#include <unordered_map>

namespace cohort::chat {
namespace {

// One node: the order is the order of publish() calls, which each room makes from its strand.
class local_bus : public chat_bus {
 public:
  void watch(std::int64_t webinar_id, room_feed feed) override {
    std::lock_guard lock(mutex_);
    auto& room = rooms_[webinar_id];
    // The history lives in memory: a new process is a new history, so a new epoch.
    room.epoch = common::hex(common::random_bytes(4));
    room.feed = std::move(feed);
    room.feed.on_loaded(room.epoch, 0, {}, {}, {});  // state comes from the database (one node: the primary)
  }

  // One node: the room's own flood limiter already sees all of a sender's messages.
  void publish(std::int64_t webinar_id, std::string tail, flood_limit, std::function<void(published)> done) override {
    std::function<void(std::string)> deliver;
    std::string frame, id;
    std::int64_t seq = 0;
    {
      std::lock_guard lock(mutex_);
      auto it = rooms_.find(webinar_id);
      if (it == rooms_.end()) return done({});
      seq = ++it->second.last_seq;
      id = it->second.epoch + "-" + std::to_string(seq);
      frame = "{\"type\":\"chat.message\",\"seq\":" + std::to_string(seq) + ",\"id\":\"" + id + "\"," + tail;
      deliver = it->second.feed.on_event;
      // Delivered under the lock so two publishers cannot hand their frames over out of order.
      deliver(std::move(frame));
    }
    done({true, seq, std::move(id), 0});
  }

  void publish_control(std::int64_t webinar_id, std::string frame) override {
    std::lock_guard lock(mutex_);
    if (auto it = rooms_.find(webinar_id); it != rooms_.end()) it->second.feed.on_event(std::move(frame));
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
    room_feed feed;
  };
  std::mutex mutex_;
  std::unordered_map<std::int64_t, room_state> rooms_;
  node_feed node_;
};

}  // namespace

std::unique_ptr<chat_bus> make_local_bus() { return std::make_unique<local_bus>(); }

}  // namespace cohort::chat

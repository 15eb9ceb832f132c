// Where a room's order comes from. The local bus sequences inside this process (one node, the
// embedded default). The Redis bus sequences in Redis, so the rooms of every node see one order
// and one history (see proto/redis.md). Either way a room publishes, and then receives every
// event of its webinar, its own included, through the handlers it registered with watch().
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace cohort::chat {

// What a room is told by the bus. Called on any thread; the room posts to its strand.
struct room_feed {
  // The history as the bus holds it: epoch, latest seq, the recent chat.message frames (oldest
  // first) and the ids deleted among them. Called once before any event, and again after the
  // bus reconnected (frames the room already has are repeated; the epoch may have changed).
  std::function<void(std::string epoch, std::int64_t last_seq, std::vector<std::string> frames,
                     std::vector<std::string> deleted)>
      on_loaded;
  // One event frame: a chat.message, a chat.deleted, or a control frame (x.mute, x.ban).
  std::function<void(std::string frame)> on_event;
};

class chat_bus {
 public:
  virtual ~chat_bus() = default;
  // Starts feeding this webinar's events to `feed`. One watch per webinar per node.
  virtual void watch(std::int64_t webinar_id, room_feed feed) = 0;
  // Sequences a chat message. `tail` is the message JSON after its seq and id, starting with a
  // comma-free member list and ending with '}': `"from":{...},"text":"...","ts":"..."}`.
  // done(ok, seq, id): ok=false when the bus is unavailable (nothing was published).
  virtual void publish(std::int64_t webinar_id, std::string tail,
                       std::function<void(bool ok, std::int64_t seq, std::string id)> done) = 0;
  // Fans a frame out to every node's room of this webinar, unsequenced (chat.deleted, x.mute, x.ban).
  virtual void publish_control(std::int64_t webinar_id, std::string frame) = 0;
  // Reports this node's member count for a webinar and answers with the count across all nodes
  // (done may run on any thread). The local bus answers `local` at once.
  virtual void count_presence(std::int64_t webinar_id, std::size_t local, std::function<void(std::size_t total)> done) = 0;
  // False while the bus cannot publish (Redis down); /readyz reports it.
  virtual bool available() const = 0;
  // Disconnects and lets go of the rooms; call while the io_context still runs (server stop).
  virtual void stop() {}
};

// The in-process bus: sequences and fans out within this node; history is the rooms' own.
std::unique_ptr<chat_bus> make_local_bus();

}  // namespace cohort::chat

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

namespace cohort::live_room {

// What a room is told by the bus. Called on any thread; the room posts to its strand.
struct room_feed {
  // The history as the bus holds it: epoch, latest seq, the recent chat.message frames (oldest
  // first) and the ids deleted among them. Called once before any event, and again after the
  // bus reconnected (frames the room already has are repeated; the epoch may have changed).
  // `state` holds the room's state frames (see publish_state), in no particular order.
  std::function<void(std::string epoch, std::int64_t last_seq, std::vector<std::string> frames,
                     std::vector<std::string> deleted, std::vector<std::string> state)>
      on_loaded;
  // One event frame: a chat.message, a chat.deleted, a state frame or a control frame (x.ban, ...).
  std::function<void(std::string frame)> on_event;
};

// What a node is told about the whole cluster. Called on any thread.
struct node_feed {
  // Every revocation entry (see revoke) after each (re)connect, and again whenever the primary
  // marks a new generation; in between, one entry per call. complete = true only for a whole
  // list that carries the primary's generation marker (proto/redis.md): only then may a node
  // without a database trust it. A whole list without the marker is passed with complete = false,
  // after on_unconfirmed.
  std::function<void(std::vector<std::string> entries, bool complete)> on_revoked;
  // A room is in use on some node (reported once per room and again after a reconnect). The
  // primary hosts every such room, so it writes the transcript and attendance of all nodes.
  std::function<void(std::int64_t webinar_id)> on_room;
  // The bus (re)connected: the primary re-publishes what Redis must hold (it may have come back empty).
  std::function<void()> on_connected;
  // Redis holds no generation marker (it lost its data and the primary has not re-published
  // yet), or the connection was lost: the revocation list this node has may be incomplete.
  std::function<void()> on_unconfirmed;
};

// The flood limit the bus applies across all nodes (a person may hold sockets on several; each
// node's room also limits what it sees). sender 0 (the organizer) is never limited.
struct flood_limit {
  std::int64_t sender = 0;
  int burst = 0;       // messages per window ...
  int window_ms = 0;
  int block_ms = 0;    // ... else blocked this long
};

struct published {
  bool ok = false;           // false: nothing was published
  std::int64_t seq = 0;
  std::string id;
  std::int64_t blocked_ms = 0;  // > 0: refused by the cluster-wide flood limit for this long
};

class room_bus {
 public:
  virtual ~room_bus() = default;
  // Starts feeding this webinar's events to `feed`. One watch per webinar per node.
  virtual void watch(std::int64_t webinar_id, room_feed feed) = 0;
  // Stops feeding this webinar's events to its room (the room was dropped from memory). The
  // Redis bus ignores the room's channel from then on; the subscription itself ends with the
  // connection (redis_connection has no UNSUBSCRIBE), and a later watch() takes it up again.
  virtual void unwatch(std::int64_t webinar_id) = 0;
  // Sequences an event (a chat message, ...). `tail` is the event's JSON after its seq and id, starting with a
  // comma-free member list and ending with '}': `"from":{...},"text":"...","ts":"..."}`.
  // done: not ok when the bus is unavailable or the sender is over the flood limit.
  // `type` names the event ("chat.message"): a constant of the channel that sequences it, put
  // in the frame as it is (plain ASCII, no quotes). The frame is {"type":TYPE,"seq":S,"id":ID,TAIL.
  virtual void publish(std::int64_t webinar_id, std::string type, std::string tail, flood_limit limit,
                       std::function<void(published)> done) = 0;
  // Fans a frame out to every node's room of this webinar, unsequenced (chat.deleted, x.ban, x.present).
  virtual void publish_control(std::int64_t webinar_id, std::string frame) = 0;
  // Like publish_control, and the bus keeps the frame under `field` (replacing an older one) and
  // hands it to every room that loads later: mutes, released drops, seen markers. Rooms apply
  // state frames idempotently, so the same frame may arrive any number of times.
  virtual void publish_state(std::int64_t webinar_id, std::string field, std::string frame) = 0;
  // Node-wide: at most one watcher per node.
  virtual void watch_node(node_feed feed) = 0;
  // Adds an entry to the cluster's revocation list (kept in Redis, sent to every node): "t:<hex
  // SHA-256 of a token nonce>" for a cancelled registration's token, "b:<webinar>:<registration>"
  // for a ban. Edge nodes, which have no database, check tokens against it.
  virtual void revoke(std::string entry) = 0;
  // The primary, after it re-published every entry (node_feed::on_connected): marks the list in
  // Redis complete with a new generation, so edges trust it again. After the entries, in order.
  virtual void revocations_published() {}
  // The series is deleted: the bus may drop what it keeps of the room (its Redis keys).
  virtual void forget(std::int64_t /*webinar_id*/) {}
  // Reports this node's member count for a webinar and answers with the count across all nodes
  // (done may run on any thread). The local bus answers `local` at once.
  virtual void count_presence(std::int64_t webinar_id, std::size_t local, std::function<void(std::size_t total)> done) = 0;
  // False while the bus cannot publish (Redis down); /readyz reports it.
  virtual bool available() const = 0;
  // Disconnects and lets go of the rooms; call while the io_context still runs (server stop).
  virtual void stop() {}
};

// The in-process bus: sequences and fans out within this node, and keeps each webinar's last
// `history_max` sequenced frames for a room made again after it was dropped (chat.history_messages).
std::unique_ptr<room_bus> make_local_bus(std::size_t history_max = 1000);

}  // namespace cohort::live_room

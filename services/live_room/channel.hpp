// A channel is one feature of the live room (chat, drops, stream status, presence, attendance,
// ...). The room knows none of them by name: it dispatches each client message and each bus
// event by its "type" to the channel that declared it (channel_registry), and asks every channel
// what to add to a member's hello.
//
// A channel is made once per node (it holds its store, config and routes) and opens one
// channel_room per room, which keeps that room's share of the channel's state. Every
// channel_room call runs on the room's strand, so a channel_room needs no lock.
#pragma once

#include "live_room/member.hpp"
#include "live_room/room_bus.hpp"
#include "registration/api_support.hpp"
#include "store/reader_pool.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>
#include <boost/json/object.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

namespace cohort::http { class router; }
namespace cohort::metrics { struct registry; }

namespace cohort::live_room {

// A channel's access to the primary's database: writes through the single writer, reads from
// the pool. An edge's channels have none (std::nullopt).
struct store_access {
  registration::write_path writes;
  store::reader_pool* readers = nullptr;
};

using room_executor = boost::asio::strand<boost::asio::io_context::executor_type>;

// What a channel_room may do with its room. Call only on the room's strand, except where noted.
class room_context {
 public:
  virtual ~room_context() = default;
  virtual std::int64_t webinar_id() const = 0;
  virtual room_bus& bus() = 0;
  virtual metrics::registry* metrics() const = 0;
  // For a channel's timers; a handler that outlives the call holds keep_alive() (the room, and
  // with it the channel_room).
  virtual const room_executor& executor() const = 0;
  virtual std::shared_ptr<void> keep_alive() = 0;
  // Runs `task` on the room's strand, room kept alive. Any thread (a bus answer, say).
  virtual void post(std::function<void()> task) = 0;
  virtual const std::unordered_set<member_ptr>& members() const = 0;

  // Fan-out, in the room's order (one write per member per strand turn).
  virtual void broadcast(frame_ptr frame) = 0;
  virtual void send_to(const member_ptr& m, frame_ptr frame) = 0;
  // To every member `wants` accepts.
  virtual void send_where(frame_ptr frame, const std::function<bool(const member_identity&)>& wants) = 0;
  // An {"type":"error"} frame to one member, flushed at once. Any thread.
  virtual void refuse(const member_ptr& to, std::string_view code, const std::string& message,
                      std::optional<std::int64_t> until_unix) = 0;
  // Closes every registrant connection of this person (nullopt: of everyone) on this node.
  virtual void close_members(std::optional<std::int64_t> registration_id, std::uint16_t code, const char* reason) = 0;

  // Publishing (same as bus(), for this webinar). A sequenced event of `type` (one of the
  // channel's sequenced types) gets the room's next seq and id; `tail` as in room_bus::publish.
  virtual void publish_sequenced(std::string type, std::string tail, flood_limit limit, std::function<void(published)> done) = 0;
  virtual void publish_control(std::string frame) = 0;

  // The room's catch-up history of sequenced events.
  virtual bool in_history(std::int64_t sender, const std::string& client_id) const = 0;
  virtual bool remove_from_history(const std::string& id) = 0;
  // A sequenced event its channel held back (on_sequenced returned true) may go out now;
  // `withdrawn` set: it never goes out (it leaves the history, its client_id free for a resend)
  // and `withdrawn` runs in its place, after everything sequenced before it went out.
  virtual void release_sequenced(const std::string& id, std::function<void()> withdrawn) = 0;
};

// One channel's part of one room. Every call on the room's strand; all optional.
class channel_room {
 public:
  virtual ~channel_room() = default;
  // A client message of one of the channel's client types (already a JSON object with "type").
  virtual void on_client(const member_ptr& /*from*/, std::string_view /*type*/, const boost::json::object& /*msg*/) {}
  // A sequenced event of its types, the first time the room appends it to its history (the
  // room delivers it; `live` is false while a load replays what members already have).
  // Returning true (live events only) holds its delivery, and that of every sequenced event after
  // it, until the channel calls room_context::release_sequenced: the chat on the primary, so
  // that no one sees a message before its transcript row is committed.
  virtual bool on_sequenced(const boost::json::object& /*frame*/, bool /*live*/) { return false; }
  // A control event of its types. `bytes` is the frame as the bus carried it.
  virtual void on_control(std::string_view /*type*/, const boost::json::object& /*frame*/, const frame_ptr& /*bytes*/,
                          bool /*live*/) {}
  // A state frame of its types. State only grows and applying a frame twice changes nothing;
  // `live` false: loading (from the store or the bus), tell no one.
  virtual void on_state(const boost::json::object& /*frame*/, bool /*live*/) {}
  // A member joined (already among members()); before its hello.
  virtual void on_join(const member_ptr& /*m*/) {}
  // What this channel adds to `who`'s hello.
  virtual void add_to_hello(const member_identity& /*who*/, boost::json::object& /*hello*/) {}
  // Right after the hello went to `m` (frames that follow it).
  virtual void after_hello(const member_ptr& /*m*/) {}
  // A member left or was closed (no longer among members()).
  virtual void on_leave(const member_ptr& /*m*/) {}
  // The room is being dropped: cancel timers.
  virtual void on_stop() {}
};

// The message types a channel declares. A type belongs to one channel.
struct channel_types {
  std::vector<std::string> client;     // from members: "chat.send"
  std::vector<std::string> sequenced;  // bus events the room sequences into its history: "chat.message"
  std::vector<std::string> control;    // other bus events: "chat.deleted", "x.ban"
  std::vector<std::string> state;      // state frames (kept by the bus, re-published): "x.mute"
};

class channel {
 public:
  virtual ~channel() = default;
  virtual std::string_view name() const = 0;
  virtual channel_types types() const = 0;
  // The field the bus keeps a state frame of this channel under (a newer frame with the same
  // field replaces it): "mute:7". Throws std::exception for a malformed frame.
  virtual std::string state_field(const boost::json::object& /*frame*/) const { return {}; }
  // The state frames its store holds for a webinar (primary only): what a room starts from, and
  // what the primary re-publishes after the bus reconnected (Redis may have come back empty).
  virtual std::vector<std::string> stored_state(std::int64_t /*webinar_id*/) const { return {}; }
  // This channel's part of a new room.
  virtual std::unique_ptr<channel_room> open(room_context& room) = 0;
  // Its HTTP routes (primary only).
  virtual void add_routes(http::router& /*r*/) {}
};

}  // namespace cohort::live_room

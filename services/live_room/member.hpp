// Who is in a room and how the room reaches them. A connection (room_client) implements
// room_member; tests implement it with fakes.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace cohort::live_room {

using frame_ptr = std::shared_ptr<const std::string>;  // a serialized frame, shared by every send

struct member_identity {
  std::int64_t id = 0;  // registration id; 0 for the organizer
  std::string name;
  std::string role;     // registrant | organizer
  std::string token_nonce_hash;  // registrant: its token's, to re-check open sockets against the revocation list
  // Organizers (and moderators, once there are any) run the room: no flood limit, every drop.
  bool runs_room() const { return role == "organizer" || role == "moderator"; }
};

// What a room needs from a connection. Everything but construction runs on the room's strand.
class room_member {
 public:
  virtual ~room_member() = default;
  virtual const member_identity& who() const = 0;
  // Queues a frame; it goes out at the next flush(). The room flushes once per strand turn, so
  // frames queued meanwhile reach the kernel in one write.
  virtual void deliver(frame_ptr frame) = 0;
  virtual void flush() = 0;
  // deliver() each of `frames`, then flush().
  virtual void send_batch(const std::vector<frame_ptr>& frames) = 0;
  virtual void disconnect(std::uint16_t code, std::string reason) = 0;
};

using member_ptr = std::shared_ptr<room_member>;

}  // namespace cohort::live_room

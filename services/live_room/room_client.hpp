// One WebSocket connection in the live room: reads the client's frames, checks each is a JSON
// object whose "type" some channel handles, and hands it to its room; the room delivers frames
// back through deliver().
#pragma once

#include "gateway/ws_types.hpp"
#include "live_room/room.hpp"

namespace cohort::live_room {

class room_client : public http::ws_handler, public room_member, public std::enable_shared_from_this<room_client> {
 public:
  room_client(member_identity who, std::shared_ptr<room> r, const channel_registry& channels, std::optional<std::int64_t> since,
              std::optional<std::string> epoch)
      : who_(std::move(who)), room_(std::move(r)), channels_(channels), since_(since), epoch_(std::move(epoch)) {}

  // ws_handler: on the connection's strand.
  void on_open(std::shared_ptr<http::ws_peer> peer) override;
  void on_text(std::string_view text) override;
  void on_close() override;

  // room_member: on the room's strand. peer_ is set once in on_open, before the join is posted.
  const member_identity& who() const override { return who_; }
  void deliver(frame_ptr frame) override { peer_->queue(std::move(frame)); }
  void flush() override { peer_->flush(); }
  void send_batch(const std::vector<frame_ptr>& frames) override { peer_->send_batch(frames); }
  void disconnect(std::uint16_t code, std::string reason) override { peer_->close(code, std::move(reason)); }
  // Held as long as this connection lives (a socket_quota slot).
  void hold(std::shared_ptr<const void> slot) { slot_ = std::move(slot); }

 private:
  void reply_error(const char* code, const std::string& message);

  member_identity who_;
  std::shared_ptr<room> room_;
  const channel_registry& channels_;
  std::optional<std::int64_t> since_;
  std::optional<std::string> epoch_;
  std::shared_ptr<http::ws_peer> peer_;
  std::shared_ptr<const void> slot_;
};

}  // namespace cohort::live_room

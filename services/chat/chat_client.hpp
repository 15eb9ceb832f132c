// One WebSocket connection in the live chat: reads the client's frames, validates chat.send,
// and forwards it to its room; the room delivers frames back through deliver().
#pragma once

#include "chat/chat_room.hpp"
#include "gateway/ws_types.hpp"

namespace cohort::chat {

class chat_client : public http::ws_handler, public room_member, public std::enable_shared_from_this<chat_client> {
 public:
  chat_client(chat_identity who, std::shared_ptr<chat_room> room, std::optional<std::int64_t> since,
              std::optional<std::string> epoch)
      : who_(std::move(who)), room_(std::move(room)), since_(since), epoch_(std::move(epoch)) {}

  // ws_handler: on the connection's strand.
  void on_open(std::shared_ptr<http::ws_peer> peer) override;
  void on_text(std::string_view text) override;
  void on_close() override;

  // room_member: on the room's strand. peer_ is set once in on_open, before the join is posted.
  const chat_identity& who() const override { return who_; }
  void deliver(std::shared_ptr<const std::string> frame) override { peer_->queue(std::move(frame)); }
  void flush() override { peer_->flush(); }
  void send_batch(const std::vector<std::shared_ptr<const std::string>>& frames) override { peer_->send_batch(frames); }
  void disconnect(std::uint16_t code, std::string reason) override { peer_->close(code, std::move(reason)); }
  // Held as long as this connection lives (a socket_quota slot).
  void hold(std::shared_ptr<const void> slot) { slot_ = std::move(slot); }

 private:
  void reply_error(const char* code, const std::string& message);

  chat_identity who_;
  std::shared_ptr<chat_room> room_;
  std::optional<std::int64_t> since_;
  std::optional<std::string> epoch_;
  std::shared_ptr<http::ws_peer> peer_;
  std::shared_ptr<const void> slot_;
};

// Checks chat text: valid UTF-8, 1..500 characters after trimming, no control characters.
// Returns the trimmed text, or nullopt with `why` set.
std::optional<std::string> valid_chat_text(std::string_view raw, std::string& why);

}  // namespace cohort::chat

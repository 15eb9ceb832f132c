// WebSocket connections as the application sees them, without Beast: the gateway owns the
// socket (websocket_session.cpp); capabilities such as chat implement ws_handler.
#pragma once

#include "gateway/http_types.hpp"

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cohort::http {

// One open WebSocket. Thread-safe: send and close may be called from any thread.
class ws_peer {
 public:
  virtual ~ws_peer() = default;
  // Queues one text message and writes what is queued now. Messages go out in the order queued;
  // the bytes are shared, never copied per recipient. A peer whose queue passes its byte limit is
  // closed with 1008.
  virtual void send(std::shared_ptr<const std::string> text) = 0;
  // The same without writing: for a fan-out, which queues to every recipient and then flushes
  // each once, so everything a socket is owed goes to the kernel in one write. Whoever queues
  // must flush (or send) afterwards.
  virtual void queue(std::shared_ptr<const std::string> text) = 0;
  virtual void flush() = 0;
  // queue() for each of `texts`, then flush(): a fan-out's whole turn for this peer at once.
  virtual void send_batch(const std::vector<std::shared_ptr<const std::string>>& texts) = 0;
  virtual void close(std::uint16_t code, std::string reason) = 0;
};

// What a capability does with a connection. Called on the connection's strand, one at a time;
// on_close exactly once, after which the peer sends nothing more.
class ws_handler {
 public:
  virtual ~ws_handler() = default;
  virtual void on_open(std::shared_ptr<ws_peer> peer) = 0;
  virtual void on_text(std::string_view text) = 0;
  virtual void on_close() = 0;
};

// Either refuse the upgrade with an HTTP answer, or accept it with a handler.
struct upgrade_result {
  std::optional<response> refuse;
  std::shared_ptr<ws_handler> accept;
};

// Decides a WebSocket upgrade for `GET /ws`. req.origin is empty when the client sent none.
using upgrade_handler = std::function<upgrade_result(request& req)>;

}  // namespace cohort::http

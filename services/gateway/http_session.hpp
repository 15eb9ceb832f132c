// One HTTP/1.1 connection (Beast, inside http_session.cpp): reads one request at a time with
// header/body limits and deadlines, runs the router's header checks before any body byte is read
// (and before `100 Continue`), spools upload bodies to a file at a minimum rate, hands the request
// to the router, and writes the answer (string, shared buffer, file range, or prebuilt header +
// sendfile) before reading the next one, so pipelined requests are answered in order. A refused
// request with a body still coming is answered and the connection closed. A WebSocket upgrade
// hands the stream to websocket_session. Private to the gateway.
#pragma once

#include <boost/asio/ip/tcp.hpp>

#include <cstdint>
#include <memory>

namespace cohort::http {

class connection_slot;
class http_listener;

class http_session {
 public:
  virtual ~http_session() = default;
  // Starts reading, on the session's own strand (the socket's executor).
  virtual void run() = 0;
  // From any thread: close now if idle; a request already arriving or being answered finishes first.
  virtual void shutdown() = 0;
};

// The session unregisters itself from `server` (id) when it ends; `slot` is held for the
// connection's life, and handed to a WebSocket after an upgrade.
std::shared_ptr<http_session> make_http_session(boost::asio::ip::tcp::socket&& socket, std::shared_ptr<http_listener> server,
                                                std::uint64_t id, std::shared_ptr<connection_slot> slot);

}  // namespace cohort::http

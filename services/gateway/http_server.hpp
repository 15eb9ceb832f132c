// The HTTP/1.1 server, the facade main uses: an http_listener that accepts on its own strand and
// one http_session per connection (Beast, kept inside http_session.cpp and websocket_session.cpp). Each session reads one request at a time
// with header/body limits and deadlines, hands it to the router, and writes the answer before
// reading the next one, so pipelined requests are answered in order. The router's checks that
// need only the header run before any body byte is read (and before `100 Continue`); a refused
// request with a body still coming is answered and the connection closed.
// Limits: connections per client address (a trusted proxy's own connections are exempt, as it
// carries many clients; the header naming the client is not read yet at accept), uploads at
// once, a minimum upload rate. Accept pauses briefly when descriptors run out instead of spinning.
#pragma once

#include "gateway/router.hpp"
#include "gateway/ws_types.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace cohort::http {

class http_listener;

struct server_options {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8080;
  std::uint32_t body_max_bytes = 64 * 1024;
  std::uint32_t header_max_bytes = 16 * 1024;
  int read_timeout_seconds = 10;
  int keepalive_timeout_seconds = 30;
  std::size_t ws_queue_max_bytes = 1024 * 1024;
  std::size_t ws_message_max_bytes = 16 * 1024;
  int ws_ping_interval_seconds = 30;
  std::string upload_dir;              // where upload routes spool bodies; empty: no uploads
  std::uint64_t upload_max_bytes = 0;  // larger upload bodies get 413
  int uploads_max = 4;                 // upload bodies received at once; more get 503 + Retry-After
  std::uint64_t upload_min_bytes_per_second = 10 * 1024;  // 0: no minimum
  int upload_rate_window_seconds = 10; // the rate is averaged over (and first checked after) this
  int connections_per_ip = 256;        // open connections (WebSockets too) per client address; 0: no cap
  std::vector<std::string> trusted_proxies;  // CIDR networks whose forwarding headers are believed
  bool hsts = false;                   // send Strict-Transport-Security (the public URL is https)
  // Asked for each accepted connection before any byte of it is read (on the acceptor's strand);
  // false closes it. Empty: every connection is served.
  std::function<bool(const boost::asio::ip::tcp::socket&)> accept_filter;
};

class http_server {
 public:
  // Throws std::invalid_argument for a malformed trusted_proxies entry.
  http_server(boost::asio::io_context& ioc, server_options options, const router& routes, metrics::registry* metrics);
  ~http_server();
  http_server(const http_server&) = delete;
  http_server& operator=(const http_server&) = delete;

  // Binds and listens; returns the bound port (useful with port 0). Throws on failure.
  // Connections wait in the backlog until start_accepting(), so routes can be added in between.
  std::uint16_t listen();
  void start_accepting();
  // Decides upgrades on GET /ws; without one, /ws is an ordinary route.
  void set_upgrade_handler(upgrade_handler h);

  // Graceful stop: no new connections; idle connections close now, busy ones after their answer,
  // WebSockets with 1001 (going away).
  void stop();
  // Connections still open (for the shutdown wait).
  std::size_t open_sessions() const;

 private:
  std::shared_ptr<http_listener> listener_;  // shared with the sessions
};

}  // namespace cohort::http

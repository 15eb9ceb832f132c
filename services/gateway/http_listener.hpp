// The accepting side of the HTTP server: the acceptor on its own strand, the per-address
// connection cap, the pause when descriptors run out, and the registry of open sessions (HTTP and
// WebSocket) that a graceful stop walks. Also what every session of this server shares (options,
// routes, metrics, proxies, the upload count). Private to the gateway: main sees http_server.
#pragma once

#include "gateway/connection_limits.hpp"
#include "gateway/http_server.hpp"
#include "gateway/trusted_proxies.hpp"
#include "gateway/ws_types.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace cohort::http {

class http_session;
struct ws_registry;  // websocket_session.hpp (Beast), included by the .cpp files that call it

class http_listener : public std::enable_shared_from_this<http_listener> {
 public:
  // Throws std::invalid_argument for a malformed trusted_proxies entry.
  http_listener(boost::asio::io_context& ioc, server_options options, const router& routes, metrics::registry* metrics);

  // As http_server's.
  std::uint16_t listen();
  void start_accepting();
  void stop();
  std::size_t open_sessions() const;

  // Shared with the sessions. Set before start_accepting, read-only afterwards but for the atomics.
  const server_options options;
  const router& routes;
  metrics::registry* const metrics;
  const trusted_proxies proxies;
  upgrade_handler upgrade;
  std::atomic<bool> stopping{false};
  std::atomic<int> uploads_in_flight{0};  // see upload_slot

  // The limits the router checks Content-Length against at header time.
  body_limits route_limits() const;
  // For a WebSocket taking over a connection: the registry keeps the connection's slot for the
  // WebSocket's life, and lets stop() close it with 1001.
  ws_registry websocket_registry(std::shared_ptr<connection_slot> slot);
  // Called by a session's destructor (any thread).
  void forget_session(std::uint64_t id);

 private:
  void do_accept();
  void on_accept(boost::system::error_code ec, boost::asio::ip::tcp::socket socket);
  void pause_accepting(boost::system::error_code ec);

  boost::asio::io_context& ioc_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer accept_pause_;  // on the acceptor's strand
  std::chrono::steady_clock::time_point accept_error_logged_{};
  std::uint64_t accept_errors_unlogged_ = 0;
  std::shared_ptr<connections_per_address> connections_;

  mutable std::mutex sessions_mutex_;
  std::map<std::uint64_t, std::weak_ptr<http_session>> sessions_;
  std::map<std::uint64_t, std::weak_ptr<ws_peer>> websockets_;
  std::uint64_t next_session_id_ = 0;
};

}  // namespace cohort::http

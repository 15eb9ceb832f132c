// One accepted WebSocket connection (Beast), private to the gateway: http_session hands its
// stream over after an upgrade was accepted. Included only by the gateway's Beast files.
#pragma once

#include "gateway/ws_types.hpp"

#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <atomic>
#include <functional>
#include <memory>

namespace cohort::metrics { struct registry; }

namespace cohort::http {

struct ws_options {
  std::size_t queue_max_bytes = 1024 * 1024;  // per connection; beyond: close 1008
  std::size_t message_max_bytes = 16 * 1024;
  int ping_interval_seconds = 30;             // a peer silent for two intervals is closed
};

// Registers the session so a server stop can close it (1001); returns the handle to drop it.
struct ws_registry {
  std::function<std::uint64_t(std::weak_ptr<ws_peer>)> add;
  std::function<void(std::uint64_t)> remove;
};

void start_websocket_session(boost::beast::tcp_stream&& stream,
                             boost::beast::http::request<boost::beast::http::string_body>&& upgrade,
                             std::shared_ptr<ws_handler> handler, const ws_options& options,
                             metrics::registry* metrics, ws_registry registry);

}  // namespace cohort::http

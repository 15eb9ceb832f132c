#include "gateway/http_listener.hpp"

#include "gateway/http_session.hpp"
#include "gateway/websocket_session.hpp"
#include "metrics/metrics.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>

#include <iostream>
#include <vector>

namespace cohort::http {

namespace net = boost::asio;
using tcp = net::ip::tcp;
using error_code = boost::system::error_code;

http_listener::http_listener(net::io_context& ioc, server_options o, const router& r, metrics::registry* m)
    : options(std::move(o)),
      routes(r),
      metrics(m),
      proxies(options.trusted_proxies),
      ioc_(ioc),
      acceptor_(net::make_strand(ioc)),
      accept_pause_(acceptor_.get_executor()),
      connections_(std::make_shared<connections_per_address>(options.connections_per_ip)) {}

std::uint16_t http_listener::listen() {
  const auto address = net::ip::make_address(options.host);
  tcp::endpoint endpoint(address, options.port);
  acceptor_.open(endpoint.protocol());
  acceptor_.set_option(net::socket_base::reuse_address(true));
  acceptor_.bind(endpoint);
  acceptor_.listen(net::socket_base::max_listen_connections);
  return acceptor_.local_endpoint().port();
}

void http_listener::start_accepting() {
  net::post(acceptor_.get_executor(), [self = shared_from_this()] { self->do_accept(); });
}

void http_listener::do_accept() {
  acceptor_.async_accept(net::make_strand(ioc_), [self = shared_from_this()](error_code ec, tcp::socket socket) {
    self->on_accept(ec, std::move(socket));
  });
}

void http_listener::on_accept(error_code ec, tcp::socket socket) {
  if (ec == net::error::operation_aborted || stopping) return;
  if (ec) return pause_accepting(ec);
  if (options.accept_filter && !options.accept_filter(socket)) {
    error_code ignored;
    socket.close(ignored);
    return do_accept();
  }
  if (metrics) metrics->http_connections_total.add();
  error_code peer_ec;
  const auto peer = socket.remote_endpoint(peer_ec);
  std::shared_ptr<connection_slot> slot;
  if (!peer_ec) {
    const auto address = peer.address().to_string();
    slot = connections_->admit(address, options.connections_per_ip > 0 && proxies.contains(address));
  }
  if (!slot) {
    // Over the per-address cap (or already gone): close without a word, it costs nothing.
    if (metrics && !peer_ec) metrics->http_connections_refused.add();
    socket.close(peer_ec);
    return do_accept();
  }
  std::shared_ptr<http_session> session;
  {
    std::lock_guard lock(sessions_mutex_);
    const auto id = next_session_id_++;
    session = make_http_session(std::move(socket), shared_from_this(), id, std::move(slot));
    sessions_.emplace(id, session);
  }
  session->run();
  do_accept();
}

// Out of descriptors (or kernel memory), accept fails at once for as long as the condition lasts:
// retrying immediately would spin a core and flood the log. Wait a little, log once a second.
void http_listener::pause_accepting(error_code ec) {
  if (metrics) metrics->http_accept_errors.add();
  ++accept_errors_unlogged_;
  const auto now = std::chrono::steady_clock::now();
  if (now - accept_error_logged_ >= std::chrono::seconds(1)) {
    std::cerr << "cohort: http accept failed " << accept_errors_unlogged_ << " time(s): " << ec.message()
              << "; retrying every 100 ms\n";
    accept_error_logged_ = now;
    accept_errors_unlogged_ = 0;
  }
  const bool exhausted = ec == net::error::no_descriptors || ec == boost::system::errc::too_many_files_open_in_system ||
                         ec == net::error::no_buffer_space || ec == net::error::no_memory;
  if (!exhausted) return do_accept();  // e.g. a connection aborted before we took it
  accept_pause_.expires_after(std::chrono::milliseconds(100));
  accept_pause_.async_wait([self = shared_from_this()](error_code wait_ec) {
    if (wait_ec || self->stopping) return;
    self->do_accept();
  });
}

void http_listener::stop() {
  stopping = true;
  net::post(acceptor_.get_executor(), [self = shared_from_this()] {
    error_code ec;
    self->acceptor_.close(ec);
    self->accept_pause_.cancel();
  });
  // Snapshots under the lock, calls after it: the last reference to a session may be the one
  // taken here, and its destructor takes the same lock.
  std::vector<std::shared_ptr<http_session>> live;
  {
    std::lock_guard lock(sessions_mutex_);
    for (auto& [id, weak] : sessions_)
      if (auto s = weak.lock()) live.push_back(std::move(s));
  }
  for (auto& s : live) s->shutdown();
  std::vector<std::shared_ptr<ws_peer>> sockets;
  {
    std::lock_guard lock(sessions_mutex_);
    for (auto& [id, weak] : websockets_)
      if (auto p = weak.lock()) sockets.push_back(std::move(p));
  }
  for (auto& p : sockets) p->close(1001, "server shutting down");
}

std::size_t http_listener::open_sessions() const {
  std::lock_guard lock(sessions_mutex_);
  return sessions_.size() + websockets_.size();
}

body_limits http_listener::route_limits() const {
  const bool uploads = !options.upload_dir.empty();
  return body_limits{options.body_max_bytes, uploads ? options.upload_max_bytes : options.body_max_bytes};
}

ws_registry http_listener::websocket_registry(std::shared_ptr<connection_slot> slot) {
  return ws_registry{[self = shared_from_this(), slot](std::weak_ptr<ws_peer> peer) {
                       std::lock_guard lock(self->sessions_mutex_);
                       const auto id = self->next_session_id_++;
                       self->websockets_.emplace(id, std::move(peer));
                       return id;
                     },
                     [self = shared_from_this(), slot](std::uint64_t id) {
                       std::lock_guard lock(self->sessions_mutex_);
                       self->websockets_.erase(id);
                     }};
}

void http_listener::forget_session(std::uint64_t id) {
  std::lock_guard lock(sessions_mutex_);
  sessions_.erase(id);
}

}  // namespace cohort::http

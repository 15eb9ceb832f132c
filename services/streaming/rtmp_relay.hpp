// The RTMP port organizers publish to (OBS "Custom" service). Until a connection publishes with
// a valid stream key, Cohort speaks RTMP to it itself (rtmp_responder: handshake, connect,
// createStream), holding no process and at most `before_publish_bytes` of its bytes. Only then
// does the ingest start the publish's private ffmpeg (listening on loopback); every client byte
// since C0 is replayed to it, the rest relayed as it comes, and ffmpeg's own answers dropped
// (the client already has Cohort's). An unknown key, a second publisher, media before
// `publish`, a malformed stream or the deadline closes the connection without starting anything.
// Connections that have not published are capped per address and in all (rtmp_admission).
#pragma once

#include "config/config.hpp"
#include "streaming/stream_ingest.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <chrono>
#include <memory>

namespace cohort::streaming {

struct rtmp_limits {
  std::chrono::seconds handshake{10};         // handshake + connect + publish
  std::size_t per_ip = 4;                     // connections not yet publishing, from one address
  std::size_t total = 200;                    // ... in all (a new one closes the oldest)
  std::size_t before_publish_bytes = 64 * 1024;  // a client's bytes kept for the replay before publish
};

class rtmp_relay {
 public:
  rtmp_relay(boost::asio::io_context& ioc, listen_address listen, std::shared_ptr<stream_ingest> ingest, metrics::registry* metrics,
             rtmp_limits limits = {});
  ~rtmp_relay();
  // Binds; returns the port. Throws on failure.
  std::uint16_t listen();
  void start_accepting();
  void stop();

  struct shared_state;  // admission, the waiting sessions, the refusal log: shared with sessions

 private:
  void do_accept();

  boost::asio::io_context& ioc_;
  listen_address address_;
  std::shared_ptr<stream_ingest> ingest_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::shared_ptr<shared_state> shared_;
};

}  // namespace cohort::streaming

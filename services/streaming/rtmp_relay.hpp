// The RTMP port organizers publish to (OBS "Custom" service). Cohort does not speak RTMP
// itself: each connection is relayed byte for byte to a private ffmpeg listening on loopback,
// while the client's half is read passively (rtmp_client_parser) to find the stream key in the
// `publish` command. Bytes are forwarded only after they were parsed, so the publish reaches
// ffmpeg only once the key was found valid, and media never flows without it: an unknown key,
// a second publisher or media before `publish` closes the connection.
#pragma once

#include "config/config.hpp"
#include "streaming/streaming_hub.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <atomic>
#include <memory>

namespace cohort::streaming {

class rtmp_relay {
 public:
  rtmp_relay(boost::asio::io_context& ioc, listen_address listen, std::shared_ptr<streaming_hub> hub, metrics::registry* metrics);
  // Binds; returns the port. Throws on failure.
  std::uint16_t listen();
  void start_accepting();
  void stop();

 private:
  void do_accept();

  boost::asio::io_context& ioc_;
  listen_address address_;
  std::shared_ptr<streaming_hub> hub_;
  boost::asio::ip::tcp::acceptor acceptor_;
  metrics::registry* metrics_;
  std::shared_ptr<std::atomic<int>> unchecked_ = std::make_shared<std::atomic<int>>(0);
};

}  // namespace cohort::streaming

// Loopback helpers for handing a publish to a local ffmpeg that listens on a port of its own.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <cstdint>

namespace cohort::streaming {

// A free loopback port for the next ffmpeg (it binds it a moment later; the race is local).
inline std::uint16_t free_loopback_port(boost::asio::io_context& ioc) {
  using tcp = boost::asio::ip::tcp;
  tcp::acceptor probe(ioc, tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
  return probe.local_endpoint().port();
}

// True when a connect to a loopback port nobody listened on yet came back connected to itself:
// Linux can pick the destination port as the source port (TCP simultaneous open), and a relay
// retrying until ffmpeg listens would then feed its own bytes back and ffmpeg would never get
// the stream. Such a socket must be closed and the connect retried.
inline bool connected_to_itself(const boost::asio::ip::tcp::socket& s) {
  boost::system::error_code local_ec, remote_ec;
  const auto local = s.local_endpoint(local_ec);
  const auto remote = s.remote_endpoint(remote_ec);
  return !local_ec && !remote_ec && local == remote;
}

}  // namespace cohort::streaming

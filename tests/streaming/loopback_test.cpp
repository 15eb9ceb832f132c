#include "streaming/loopback.hpp"

#include <catch2/catch.hpp>

namespace net = boost::asio;
using tcp = net::ip::tcp;
using cohort::streaming::connected_to_itself;
using cohort::streaming::free_loopback_port;

TEST_CASE("a connect that reached its own port is told apart from one that reached a listener", "[streaming][loopback]") {
  net::io_context ioc;

  SECTION("connected to itself: TCP simultaneous open, as when the kernel picks the destination port as the source") {
    tcp::socket s(ioc);
    s.open(tcp::v4());
    s.set_option(tcp::socket::reuse_address(true));
    s.bind(tcp::endpoint(net::ip::make_address("127.0.0.1"), 0));
    const auto self = s.local_endpoint();
    s.connect(self);
    CHECK(s.remote_endpoint() == self);
    CHECK(connected_to_itself(s));
  }

  SECTION("connected to a listener on a free port") {
    const auto port = free_loopback_port(ioc);
    tcp::acceptor listener(ioc, tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
    tcp::socket s(ioc);
    s.connect(listener.local_endpoint());
    tcp::socket accepted = listener.accept();
    CHECK(s.remote_endpoint().port() == port);
    CHECK_FALSE(connected_to_itself(s));
    CHECK_FALSE(connected_to_itself(accepted));
  }

  SECTION("not connected at all") {
    tcp::socket s(ioc);
    CHECK_FALSE(connected_to_itself(s));
    s.open(tcp::v4());
    CHECK_FALSE(connected_to_itself(s));
  }
}

#include "gateway/trusted_proxies.hpp"

#include <catch2/catch.hpp>

#include <stdexcept>

namespace {

using namespace cohort::http;

bool in(const std::string& network, const std::string& address) {
  auto n = address_network::parse(network);
  REQUIRE(n);
  auto a = parse_address(address);
  REQUIRE(a);
  return n->contains(*a);
}

}  // namespace

TEST_CASE("address_network parses IPv4 and IPv6 CIDRs and bare addresses", "[gateway]") {
  CHECK(in("10.0.0.0/8", "10.200.3.4"));
  CHECK_FALSE(in("10.0.0.0/8", "11.0.0.1"));
  CHECK(in("192.168.1.0/24", "192.168.1.255"));
  CHECK_FALSE(in("192.168.1.0/24", "192.168.2.0"));
  CHECK(in("127.0.0.1", "127.0.0.1"));
  CHECK_FALSE(in("127.0.0.1", "127.0.0.2"));
  CHECK(in("0.0.0.0/0", "203.0.113.9"));
  CHECK(in("2001:db8::/32", "2001:db8:cafe::17"));
  CHECK_FALSE(in("2001:db8::/32", "2001:db9::1"));
  CHECK(in("::1/128", "::1"));
  // An IPv4 network matches the same peer seen through an IPv6 socket.
  CHECK(in("127.0.0.0/8", "::ffff:127.0.0.5"));
  CHECK_FALSE(in("127.0.0.0/8", "::7f00:5"));
}

TEST_CASE("address_network refuses malformed networks", "[gateway]") {
  for (const char* bad : {"", "10.0.0.0/", "10.0.0.0/33", "::/129", "10.0.0.0/8x", "10.0.0.0/-1", "example.org", "10.0.0/8",
                          "10.0.0.1/8", "2001:db8::1/32", "/8", "1.2.3.4/ 8"})
    CHECK_FALSE(address_network::parse(bad));
  CHECK(address_network::parse(" 10.0.0.0/8 "));
  CHECK(address_network::parse("::/0"));
}

TEST_CASE("forwarded_chain reads X-Forwarded-For and Forwarded, left to right", "[gateway]") {
  CHECK(forwarded_chain("203.0.113.9", "") == std::vector<std::string>{"203.0.113.9"});
  CHECK(forwarded_chain(" 198.51.100.7 ,203.0.113.9:4711, [2001:db8::1]:80, 2001:db8::2", "") ==
        std::vector<std::string>{"198.51.100.7", "203.0.113.9", "2001:db8::1", "2001:db8::2"});
  CHECK(forwarded_chain("", "for=192.0.2.43, for=\"[2001:db8:cafe::17]:4711\";proto=https, By=10.0.0.1;FOR=198.51.100.1") ==
        std::vector<std::string>{"192.0.2.43", "2001:db8:cafe::17", "198.51.100.1"});
  CHECK(forwarded_chain("", "proto=https, for=unknown") == std::vector<std::string>{"unknown", "unknown"});
  // X-Forwarded-For wins when both are present (see trusted_proxies::client_address).
  CHECK(forwarded_chain("203.0.113.9", "for=192.0.2.1") == std::vector<std::string>{"203.0.113.9"});
  CHECK(forwarded_chain("", "").empty());
}

TEST_CASE("trusted_proxies believes forwarding headers only from a trusted peer", "[gateway]") {
  const trusted_proxies none;
  CHECK(none.client_address("127.0.0.1", "203.0.113.9", "") == "127.0.0.1");

  const trusted_proxies proxies({"127.0.0.1/32", "10.0.0.0/8"});
  // From an untrusted peer the header is the client's own claim.
  CHECK(proxies.client_address("192.0.2.50", "203.0.113.9", "") == "192.0.2.50");
  CHECK(proxies.client_address("192.0.2.50", "", "for=203.0.113.9") == "192.0.2.50");
  // From a trusted peer: the right-most address that is not a trusted proxy.
  CHECK(proxies.client_address("127.0.0.1", "203.0.113.9", "") == "203.0.113.9");
  CHECK(proxies.client_address("127.0.0.1", "1.2.3.4, 203.0.113.9, 10.0.0.7", "") == "203.0.113.9");
  CHECK(proxies.client_address("::ffff:127.0.0.1", "203.0.113.9", "") == "203.0.113.9");
  CHECK(proxies.client_address("127.0.0.1", "", "for=\"[2001:db8::5]:1234\"") == "2001:db8::5");
  // No header, all hops trusted, or a hop that is not an address: the nearest trusted hop.
  CHECK(proxies.client_address("127.0.0.1", "", "") == "127.0.0.1");
  CHECK(proxies.client_address("127.0.0.1", "10.0.0.2, 10.0.0.3", "") == "10.0.0.2");
  CHECK(proxies.client_address("127.0.0.1", "203.0.113.9, garbage, 10.0.0.3", "") == "10.0.0.3");
  CHECK(proxies.client_address("127.0.0.1", "unknown", "") == "127.0.0.1");
  CHECK(proxies.contains("10.9.9.9"));
  CHECK_FALSE(proxies.contains("11.0.0.1"));
  CHECK_FALSE(proxies.contains("not an address"));
}

TEST_CASE("trusted_proxies refuses a malformed entry, naming it", "[gateway]") {
  CHECK_THROWS_WITH(trusted_proxies({"10.0.0.0/8", "10.0.0.0/40"}), Catch::Matchers::Contains("10.0.0.0/40"));
}

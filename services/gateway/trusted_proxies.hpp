// Which peers may say who the client is. A reverse proxy (nginx, Caddy) connects from its own
// address and names the client in X-Forwarded-For or Forwarded; those headers are believed only
// from a peer inside one of the configured networks (server.trusted_proxies), since any client
// can send them. Immutable after construction: safe to share between threads.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cohort::http {

// One network: an IPv4 or IPv6 address and a prefix length. IPv4 is kept as an IPv4-mapped IPv6
// address, so a v4 network also matches a peer reported as ::ffff:a.b.c.d.
struct address_network {
  std::array<unsigned char, 16> bytes{};
  unsigned prefix = 0;  // of the 128 bits

  // "10.0.0.0/8", "::1/128", "2001:db8::/32"; a bare address is a single host. Bits past the
  // prefix must be zero ("10.0.0.1/8" is refused: it is probably a typo). nullopt when malformed.
  static std::optional<address_network> parse(std::string_view text);
  bool contains(const std::array<unsigned char, 16>& address) const;
};

// An IP address in the same 16-byte form; nullopt unless `text` is a plain IPv4 or IPv6 address.
std::optional<std::array<unsigned char, 16>> parse_address(std::string_view text);

// The addresses a forwarding header lists, left (farthest) to right (nearest), as written:
// X-Forwarded-For "a, b" and Forwarded "for=a;proto=https, for=\"[v6]:port\"". Ports and
// brackets are stripped; entries that are not addresses ("unknown", "_hidden") are kept as
// written so the caller can stop there.
std::vector<std::string> forwarded_chain(std::string_view x_forwarded_for, std::string_view forwarded);

class trusted_proxies {
 public:
  trusted_proxies() = default;
  // Throws std::invalid_argument naming the first malformed entry.
  explicit trusted_proxies(const std::vector<std::string>& networks);

  bool empty() const { return networks_.empty(); }
  bool contains(std::string_view address) const;

  // The client's address for per-IP limits and logs: the socket peer, unless the peer is trusted;
  // then, walking the forwarding chain from the right, the first address that is not trusted (an
  // unparseable entry stops the walk at the last trusted hop). X-Forwarded-For is used when
  // present, else Forwarded: proxies that append to X-Forwarded-For pass a client's own Forwarded
  // header through untouched, so preferring it would let the client choose its address.
  std::string client_address(std::string_view peer, std::string_view x_forwarded_for, std::string_view forwarded) const;

 private:
  std::vector<address_network> networks_;
};

}  // namespace cohort::http

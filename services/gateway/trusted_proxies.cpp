#include "gateway/trusted_proxies.hpp"

#include <boost/asio/ip/address.hpp>

#include <stdexcept>

namespace cohort::http {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// "[v6]:port" -> "v6", "v4:port" -> "v4"; a bare v6 address has more than one colon and stays.
std::string_view strip_port(std::string_view s) {
  if (!s.empty() && s.front() == '[') {
    const auto close = s.find(']');
    return close == std::string_view::npos ? s : s.substr(1, close - 1);
  }
  const auto colon = s.find(':');
  if (colon != std::string_view::npos && s.find(':', colon + 1) == std::string_view::npos) return s.substr(0, colon);
  return s;
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  while (true) {
    const auto at = s.find(sep);
    out.push_back(s.substr(0, at));
    if (at == std::string_view::npos) return out;
    s.remove_prefix(at + 1);
  }
}

}  // namespace

std::optional<std::array<unsigned char, 16>> parse_address(std::string_view text) {
  boost::system::error_code ec;
  const auto address = boost::asio::ip::make_address(std::string(text), ec);
  if (ec) return std::nullopt;
  if (address.is_v4()) return boost::asio::ip::make_address_v6(boost::asio::ip::v4_mapped, address.to_v4()).to_bytes();
  return address.to_v6().to_bytes();
}

std::optional<address_network> address_network::parse(std::string_view text) {
  text = trim(text);
  const auto slash = text.find('/');
  const auto host = text.substr(0, slash);
  const auto bytes = parse_address(host);
  if (!bytes) return std::nullopt;
  const bool v4 = host.find(':') == std::string_view::npos;
  const unsigned width = v4 ? 32 : 128;
  unsigned prefix = width;
  if (slash != std::string_view::npos) {
    const auto digits = text.substr(slash + 1);
    if (digits.empty() || digits.size() > 3) return std::nullopt;
    prefix = 0;
    for (char c : digits) {
      if (c < '0' || c > '9') return std::nullopt;
      prefix = prefix * 10 + static_cast<unsigned>(c - '0');
    }
    if (prefix > width) return std::nullopt;
  }
  address_network n{*bytes, prefix + (v4 ? 96 : 0)};
  for (unsigned bit = n.prefix; bit < 128; ++bit)
    if (n.bytes[bit / 8] & (0x80u >> (bit % 8))) return std::nullopt;
  return n;
}

bool address_network::contains(const std::array<unsigned char, 16>& address) const {
  for (unsigned bit = 0; bit < prefix; ++bit) {
    const unsigned mask = 0x80u >> (bit % 8);
    if ((address[bit / 8] & mask) != (bytes[bit / 8] & mask)) return false;
  }
  return true;
}

std::vector<std::string> forwarded_chain(std::string_view x_forwarded_for, std::string_view forwarded) {
  std::vector<std::string> out;
  if (!trim(x_forwarded_for).empty()) {
    for (auto entry : split(x_forwarded_for, ',')) out.emplace_back(strip_port(trim(entry)));
    return out;
  }
  if (trim(forwarded).empty()) return out;
  for (auto element : split(forwarded, ',')) {
    std::string value = "unknown";  // an element without for= names nobody we can use
    for (auto pair : split(element, ';')) {
      pair = trim(pair);
      if (pair.size() < 4 || !(pair[0] == 'f' || pair[0] == 'F') || !(pair[1] == 'o' || pair[1] == 'O') ||
          !(pair[2] == 'r' || pair[2] == 'R') || pair[3] != '=')
        continue;
      auto v = trim(pair.substr(4));
      if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
      value = std::string(strip_port(v));
    }
    out.push_back(std::move(value));
  }
  return out;
}

trusted_proxies::trusted_proxies(const std::vector<std::string>& networks) {
  for (const auto& text : networks) {
    auto n = address_network::parse(text);
    if (!n) throw std::invalid_argument("\"" + text + "\" is not an address or CIDR network such as 10.0.0.0/8 or ::1/128");
    networks_.push_back(*n);
  }
}

bool trusted_proxies::contains(std::string_view address) const {
  if (networks_.empty()) return false;
  const auto bytes = parse_address(address);
  if (!bytes) return false;
  for (const auto& n : networks_)
    if (n.contains(*bytes)) return true;
  return false;
}

std::string trusted_proxies::client_address(std::string_view peer, std::string_view x_forwarded_for,
                                            std::string_view forwarded) const {
  if (!contains(peer)) return std::string(peer);
  std::string nearest(peer);
  const auto chain = forwarded_chain(x_forwarded_for, forwarded);
  for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
    // Whatever a hop wrote that is not an address cannot be checked; the last hop we trust is
    // the best answer left (a proxy's address is a coarser, but honest, per-IP key).
    if (!parse_address(*it)) return nearest;
    if (!contains(*it)) return *it;
    nearest = *it;
  }
  return nearest;
}

}  // namespace cohort::http

#include "bus/redis_url.hpp"

#include <cctype>
#include <charconv>
#include <stdexcept>

namespace cohort::bus {

namespace {

constexpr std::string_view scheme = "redis://";

bool starts_with_nocase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(s[i])) != prefix[i]) return false;
  }
  return true;
}

// The URL as an error message may show it: config errors end up in logs, so the password
// (everything between "://" and the last '@') is masked.
std::string redacted(std::string_view url) {
  const auto start = url.find("://");
  const auto at = url.rfind('@');
  if (start == std::string_view::npos || at == std::string_view::npos || at < start) return std::string(url);
  return std::string(url.substr(0, start + 3)) + "***" + std::string(url.substr(at));
}

[[noreturn]] void reject(std::string_view url, std::string_view why) {
  throw std::invalid_argument("invalid Redis URL \"" + redacted(url) + "\": " + std::string(why) +
                              " (expected redis://[:password@]host[:port][/db])");
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string percent_decode(std::string_view url, std::string_view encoded) {
  std::string out;
  out.reserve(encoded.size());
  for (std::size_t i = 0; i < encoded.size(); ++i) {
    if (encoded[i] != '%') {
      out += encoded[i];
      continue;
    }
    const int hi = i + 2 < encoded.size() ? hex_digit(encoded[i + 1]) : -1;
    const int lo = i + 2 < encoded.size() ? hex_digit(encoded[i + 2]) : -1;
    if (hi < 0 || lo < 0) reject(url, "bad percent-encoding in the password (use %XX)");
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

// Digits only (no sign, no spaces), within [min, max].
bool parse_number(std::string_view digits, long min, long max, int& out) {
  if (digits.empty() || digits.size() > 10) return false;
  for (char c : digits) {
    if (c < '0' || c > '9') return false;
  }
  long value = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (ec != std::errc{} || end != digits.data() + digits.size() || value < min || value > max) return false;
  out = static_cast<int>(value);
  return true;
}

bool valid_host_name(std::string_view host) {
  for (char c : host) {
    const auto u = static_cast<unsigned char>(c);
    if (!std::isalnum(u) && c != '-' && c != '.' && c != '_') return false;
  }
  return true;
}

bool valid_ipv6_literal(std::string_view host) {
  for (char c : host) {
    if (hex_digit(c) < 0 && c != ':' && c != '.') return false;
  }
  return host.find(':') != std::string_view::npos;
}

}  // namespace

redis_endpoint parse_redis_url(std::string_view url) {
  if (starts_with_nocase(url, "rediss://")) reject(url, "TLS (rediss://) is not supported");
  if (!starts_with_nocase(url, scheme)) reject(url, "the scheme must be redis://");
  std::string_view rest = url.substr(scheme.size());
  if (rest.find_first_of("?#") != std::string_view::npos) reject(url, "query strings and fragments are not supported");

  redis_endpoint endpoint;

  // The last '@' ends the credentials, so an unencoded '@' or '/' inside the password still works.
  if (const auto at = rest.rfind('@'); at != std::string_view::npos) {
    const std::string_view userinfo = rest.substr(0, at);
    rest = rest.substr(at + 1);
    const auto colon = userinfo.find(':');
    if (colon == std::string_view::npos) reject(url, "credentials must be written :password@ (with the colon)");
    if (colon != 0) reject(url, "a user name is not supported (Redis 6 ACL users need AUTH user pass); use :password@");
    endpoint.password = percent_decode(url, userinfo.substr(1));
  }

  const auto slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  if (slash != std::string_view::npos) {
    const std::string_view db = rest.substr(slash + 1);
    if (!db.empty() && !parse_number(db, 0, 2147483647L, endpoint.db)) {
      reject(url, "the database must be a non-negative integer, as in /0");
    }
  }

  std::string_view port;
  bool has_port = false;
  if (!authority.empty() && authority.front() == '[') {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) reject(url, "an IPv6 address needs its closing ']'");
    endpoint.host = std::string(authority.substr(1, close - 1));
    if (!valid_ipv6_literal(endpoint.host)) reject(url, "the bracketed host is not an IPv6 address");
    const std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') reject(url, "only :port may follow the IPv6 address");
      port = after.substr(1);
      has_port = true;
    }
  } else {
    const auto colon = authority.find(':');
    endpoint.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) {
      port = authority.substr(colon + 1);
      has_port = true;
    }
    if (!valid_host_name(endpoint.host)) {
      reject(url, "the host may only hold letters, digits, '-', '.' and '_' (IPv6 goes in brackets)");
    }
  }
  if (endpoint.host.empty()) reject(url, "the host is missing");
  if (has_port && !parse_number(port, 1, 65535, endpoint.port)) reject(url, "the port must be a number 1..65535");
  return endpoint;
}

}  // namespace cohort::bus

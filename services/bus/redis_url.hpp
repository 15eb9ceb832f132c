// Where the bus finds Redis: the endpoint parsed from a redis:// URL in config.
#pragma once

#include <string>
#include <string_view>

namespace cohort::bus {

struct redis_endpoint {
  std::string host;
  int port = 6379;
  int db = 0;
  std::string password;  // empty: no AUTH
};

// Parses redis://[:password@]host[:port][/db]. The host may be a name, an IPv4 address or a
// bracketed IPv6 address ([::1]); the password may be percent-encoded (%40 for '@').
// Throws std::invalid_argument saying what is wrong; the message never repeats the password.
redis_endpoint parse_redis_url(std::string_view url);

}  // namespace cohort::bus

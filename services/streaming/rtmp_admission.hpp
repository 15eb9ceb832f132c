// Who may hold the RTMP port before publishing. Every connection is counted from its accept
// until it publishes with a valid key (or closes): at most `per_ip` from one address and `total`
// in all. A connection over its address's cap is refused; one over the total evicts the oldest
// waiting connection instead, so a crowd of silent sockets cannot keep the organizer's encoder
// out (it is the newest, and needs only the few round trips of a handshake). A publishing
// connection is not counted: hostile connections never refuse it.
// Not thread-safe: the relay serializes access (a mutex, held briefly).
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>

namespace cohort::streaming {

class rtmp_admission {
 public:
  struct limits {
    std::size_t per_ip = 4;
    std::size_t total = 200;
  };

  struct decision {
    bool admitted = false;
    std::uint64_t id = 0;                  // to release; 0 when refused
    std::optional<std::uint64_t> evicted;  // the oldest waiting connection, to be closed by the caller
  };

  explicit rtmp_admission(limits l) : limits_(l) {}

  decision admit(const std::string& address);
  // The connection published or closed; releasing twice (or an evicted id) does nothing.
  void release(std::uint64_t id);

  std::size_t waiting() const { return waiting_.size(); }
  std::size_t waiting_from(const std::string& address) const;

 private:
  void erase(std::map<std::uint64_t, std::string>::iterator it);

  limits limits_;
  std::uint64_t next_id_ = 1;
  std::map<std::uint64_t, std::string> waiting_;  // id (in admission order) -> address
  std::map<std::string, std::size_t> per_address_;
};

}  // namespace cohort::streaming

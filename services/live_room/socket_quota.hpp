// Open sockets per registrant token on this node, capped (chat.sockets_per_token): one person
// with a phone, a laptop and a few tabs fits; a leaked or scripted token cannot hold hundreds.
// Keyed by the token's nonce hash. Thread-safe. Create with std::make_shared.
#pragma once

#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

namespace cohort::live_room {

class socket_quota : public std::enable_shared_from_this<socket_quota> {
 public:
  explicit socket_quota(std::size_t per_key) : per_key_(per_key) {}

  // A slot held for as long as the returned handle (and its copies) lives; nullptr when `key`
  // already holds per_key of them.
  using slot = std::shared_ptr<const void>;
  slot acquire(const std::string& key);
  std::size_t open(const std::string& key) const;
  std::size_t per_key() const { return per_key_; }

 private:
  void release(const std::string& key);

  const std::size_t per_key_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, std::size_t> open_;
};

}  // namespace cohort::live_room

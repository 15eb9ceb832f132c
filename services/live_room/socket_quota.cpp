#include "live_room/socket_quota.hpp"

namespace cohort::live_room {

socket_quota::slot socket_quota::acquire(const std::string& key) {
  {
    std::lock_guard lock(mutex_);
    auto& n = open_[key];
    if (n >= per_key_) return nullptr;
    ++n;
  }
  // The handle's deleter gives the slot back; it keeps the quota alive, so the order in which
  // connections and the hub go away does not matter.
  return slot(this, [self = shared_from_this(), key](const void*) { self->release(key); });
}

std::size_t socket_quota::open(const std::string& key) const {
  std::lock_guard lock(mutex_);
  const auto it = open_.find(key);
  return it == open_.end() ? 0 : it->second;
}

void socket_quota::release(const std::string& key) {
  std::lock_guard lock(mutex_);
  if (auto it = open_.find(key); it != open_.end() && --it->second == 0) open_.erase(it);
}

}  // namespace cohort::live_room

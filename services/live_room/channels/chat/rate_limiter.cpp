#include "live_room/channels/chat/rate_limiter.hpp"

namespace cohort::live_room {

bool rate_limiter::allow(clock::time_point now) {
  if (now < blocked_until_) return false;
  while (!recent_.empty() && now - recent_.front() >= limits_.window) recent_.pop_front();
  if (static_cast<int>(recent_.size()) >= limits_.burst) {
    blocked_until_ = now + limits_.penalty;
    recent_.clear();
    return false;
  }
  recent_.push_back(now);
  return true;
}

}  // namespace cohort::live_room

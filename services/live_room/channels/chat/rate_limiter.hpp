// Flood limit for one sender (Owncast's numbers): at most `burst` messages in any `window`;
// the next one blocks the sender for `penalty`, and every attempt while blocked is refused.
// Pure and single-threaded: the room that owns it serializes access.
#pragma once

#include <chrono>
#include <deque>

namespace cohort::live_room {

class rate_limiter {
 public:
  using clock = std::chrono::steady_clock;

  struct limits {
    int burst = 3;
    std::chrono::milliseconds window{2000};
    std::chrono::milliseconds penalty{10000};
  };

  rate_limiter() = default;
  explicit rate_limiter(limits l) : limits_(l) {}

  // True when a message at `now` may go; false when refused (blocked_until() tells how long).
  bool allow(clock::time_point now);
  clock::time_point blocked_until() const { return blocked_until_; }

 private:
  limits limits_;
  std::deque<clock::time_point> recent_;  // at most `burst` entries
  clock::time_point blocked_until_{};
};

}  // namespace cohort::live_room

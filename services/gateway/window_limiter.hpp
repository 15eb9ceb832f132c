// Attempts counted per key (a client address, a series, an account) in a fixed window: the
// `limit`-th attempt of a window is the last one let in; later ones learn how long until the
// window ends (a 429's Retry-After) and are not counted. take() checks and counts in one step,
// so parallel attempts cannot all pass before any is counted; refund() gives one back (a login
// that succeeded). Used for signups (registration) and console logins (accounts).
// Thread-safe. The table is capped: when full, ended windows are swept, and if none had ended
// the oldest half is forgotten — an attacker spraying keys buys others a fresh window, never
// unbounded memory.
#pragma once

#include <chrono>
#include <cstddef>
#include <mutex>
#include <string>
#include <unordered_map>

namespace cohort::http {

class window_limiter {
 public:
  using clock = std::chrono::steady_clock;

  // limit 0: no limit (every take() is let in, nothing is stored).
  explicit window_limiter(int limit, std::chrono::seconds window = std::chrono::seconds(60), std::size_t max_keys = 100000)
      : limit_(limit), window_(window), max_keys_(max_keys) {}

  // Counts one attempt for `key` and answers zero when it may go ahead, else how long (rounded
  // up, at least 1 s) until the key's window ends.
  std::chrono::seconds take(const std::string& key, clock::time_point now = clock::now());
  // Gives back one attempt taken in the current window (a reservation from an ended window is
  // already forgotten; the count never goes below zero).
  void refund(const std::string& key, clock::time_point now = clock::now());
  std::size_t size() const;

 private:
  struct window_count {
    clock::time_point started;
    int taken = 0;
  };
  void make_room(clock::time_point now);

  int limit_;
  std::chrono::seconds window_;
  std::size_t max_keys_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, window_count> counts_;
};

}  // namespace cohort::http

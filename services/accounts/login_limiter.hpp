// Console login attempts counted per key ("ip:…", "email:…") in a fixed one-minute window: at
// `limit` the key is refused until its window ends. A login reserves its attempt before the
// password is hashed (reserve), so parallel guesses cannot all pass the check before any failure
// is counted; a success gives the attempt back (refund). Thread-safe. The table is capped:
// when full, windows that ended are swept, and if none had, the oldest half is forgotten — an
// attacker who fills the table only buys a reset of others' counters, never unbounded memory.
#pragma once

#include <chrono>
#include <cstddef>
#include <mutex>
#include <string>
#include <unordered_map>

namespace cohort::accounts {

class login_limiter {
 public:
  using clock = std::chrono::steady_clock;

  explicit login_limiter(int limit, std::chrono::seconds window = std::chrono::seconds(60), std::size_t max_keys = 100000)
      : limit_(limit), window_(window), max_keys_(max_keys) {}

  // Zero when `key` may try now, else how long until it may.
  std::chrono::seconds retry_after(const std::string& key, clock::time_point now = clock::now()) const;
  // Counts one attempt for `key` and returns zero, or, when the key is at its limit, counts
  // nothing and returns how long until it may try (check and count are one step).
  std::chrono::seconds reserve(const std::string& key, clock::time_point now = clock::now());
  // Gives back one attempt reserved in the current window (the login succeeded).
  void refund(const std::string& key, clock::time_point now = clock::now());
  void failed(const std::string& key, clock::time_point now = clock::now());
  void succeeded(const std::string& key);
  std::size_t size() const;

 private:
  struct window_count {
    clock::time_point started;
    int failures = 0;
  };
  void make_room(clock::time_point now);

  int limit_;
  std::chrono::seconds window_;
  std::size_t max_keys_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, window_count> counts_;
};

// The (account, client address) pairs that logged in successfully within `keep`: an organizer
// logging in from an address they used before is not held by the account-wide limit that
// strangers' guesses from elsewhere filled. Thread-safe, capped like login_limiter.
class known_logins {
 public:
  using clock = std::chrono::steady_clock;

  explicit known_logins(std::chrono::seconds keep = std::chrono::hours(24 * 30), std::size_t max_pairs = 100000)
      : keep_(keep), max_pairs_(max_pairs) {}

  void remember(const std::string& account, const std::string& address, clock::time_point now = clock::now());
  bool contains(const std::string& account, const std::string& address, clock::time_point now = clock::now()) const;

 private:
  std::chrono::seconds keep_;
  std::size_t max_pairs_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, clock::time_point> last_login_;
};

}  // namespace cohort::accounts

// What console logins need besides http::window_limiter (which counts the attempts per IP and
// per account, before the password is hashed): the addresses an account logged in from.
#pragma once

#include <chrono>
#include <cstddef>
#include <mutex>
#include <string>
#include <unordered_map>

namespace cohort::accounts {

// The (account, client address) pairs that logged in successfully within `keep`: an organizer
// logging in from an address they used before is not held by the account-wide limit that
// strangers' guesses from elsewhere filled. Thread-safe, capped: a full table forgets
// rather than grows.
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

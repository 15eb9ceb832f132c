// Failed console logins counted per key ("ip:…", "email:…") in a fixed one-minute window: at
// `limit` failures the key is refused until its window ends. Thread-safe. The table is capped:
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

}  // namespace cohort::accounts

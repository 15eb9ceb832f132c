#include "accounts/login_limiter.hpp"

#include <algorithm>
#include <vector>

namespace cohort::accounts {

std::chrono::seconds login_limiter::retry_after(const std::string& key, clock::time_point now) const {
  std::lock_guard lock(mutex_);
  auto it = counts_.find(key);
  if (it == counts_.end() || it->second.failures < limit_) return std::chrono::seconds(0);
  const auto ends = it->second.started + window_;
  if (now >= ends) return std::chrono::seconds(0);
  // Round up, so a client that waits exactly this long is let in.
  return std::chrono::ceil<std::chrono::seconds>(ends - now);
}

void login_limiter::failed(const std::string& key, clock::time_point now) {
  std::lock_guard lock(mutex_);
  auto it = counts_.find(key);
  if (it == counts_.end()) {
    if (counts_.size() >= max_keys_) make_room(now);
    counts_.emplace(key, window_count{now, 1});
    return;
  }
  if (now - it->second.started >= window_) it->second = {now, 0};
  ++it->second.failures;
}

void login_limiter::succeeded(const std::string& key) {
  std::lock_guard lock(mutex_);
  counts_.erase(key);
}

std::size_t login_limiter::size() const {
  std::lock_guard lock(mutex_);
  return counts_.size();
}

void login_limiter::make_room(clock::time_point now) {
  std::erase_if(counts_, [&](const auto& entry) { return now - entry.second.started >= window_; });
  if (counts_.size() < max_keys_) return;
  std::vector<clock::time_point> starts;
  starts.reserve(counts_.size());
  for (const auto& [key, count] : counts_) starts.push_back(count.started);
  auto middle = starts.begin() + static_cast<std::ptrdiff_t>(starts.size() / 2);
  std::nth_element(starts.begin(), middle, starts.end());
  const auto cutoff = *middle;
  std::erase_if(counts_, [&](const auto& entry) { return entry.second.started <= cutoff; });
}

}  // namespace cohort::accounts

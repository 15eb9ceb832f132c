#include "gateway/window_limiter.hpp"

#include <algorithm>
#include <vector>

namespace cohort::http {

std::chrono::seconds window_limiter::take(const std::string& key, clock::time_point now) {
  if (limit_ <= 0) return std::chrono::seconds(0);
  std::lock_guard lock(mutex_);
  auto it = counts_.find(key);
  if (it == counts_.end()) {
    if (counts_.size() >= max_keys_) make_room(now);
    counts_.emplace(key, window_count{now, 1});
    return std::chrono::seconds(0);
  }
  auto& count = it->second;
  if (now - count.started >= window_) count = {now, 0};
  if (count.taken < limit_) {
    ++count.taken;
    return std::chrono::seconds(0);
  }
  // Round up, so a client that waits exactly this long is let in.
  return std::max(std::chrono::seconds(1), std::chrono::ceil<std::chrono::seconds>(count.started + window_ - now));
}

void window_limiter::refund(const std::string& key, clock::time_point now) {
  std::lock_guard lock(mutex_);
  auto it = counts_.find(key);
  if (it == counts_.end() || now - it->second.started >= window_ || it->second.taken == 0) return;
  --it->second.taken;
}

std::size_t window_limiter::size() const {
  std::lock_guard lock(mutex_);
  return counts_.size();
}

void window_limiter::make_room(clock::time_point now) {
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

}  // namespace cohort::http

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

std::chrono::seconds login_limiter::reserve(const std::string& key, clock::time_point now) {
  std::lock_guard lock(mutex_);
  auto it = counts_.find(key);
  if (it == counts_.end()) {
    if (counts_.size() >= max_keys_) make_room(now);
    counts_.emplace(key, window_count{now, 1});
    return std::chrono::seconds(0);
  }
  if (now - it->second.started >= window_) it->second = {now, 0};
  if (it->second.failures >= limit_) return std::chrono::ceil<std::chrono::seconds>(it->second.started + window_ - now);
  ++it->second.failures;
  return std::chrono::seconds(0);
}

void login_limiter::refund(const std::string& key, clock::time_point now) {
  std::lock_guard lock(mutex_);
  auto it = counts_.find(key);
  // A reservation from a window that has since ended is already forgotten.
  if (it == counts_.end() || now - it->second.started >= window_ || it->second.failures == 0) return;
  --it->second.failures;
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

namespace {
std::string pair_key(const std::string& account, const std::string& address) { return account + '\n' + address; }
}  // namespace

void known_logins::remember(const std::string& account, const std::string& address, clock::time_point now) {
  std::lock_guard lock(mutex_);
  if (last_login_.size() >= max_pairs_) {
    std::erase_if(last_login_, [&](const auto& entry) { return now - entry.second >= keep_; });
    // Still full: forget everything rather than grow; the cost is one account-limit check.
    if (last_login_.size() >= max_pairs_) last_login_.clear();
  }
  last_login_[pair_key(account, address)] = now;
}

bool known_logins::contains(const std::string& account, const std::string& address, clock::time_point now) const {
  std::lock_guard lock(mutex_);
  const auto it = last_login_.find(pair_key(account, address));
  return it != last_login_.end() && now - it->second < keep_;
}

}  // namespace cohort::accounts

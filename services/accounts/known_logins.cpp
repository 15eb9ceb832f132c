#include "accounts/known_logins.hpp"

namespace cohort::accounts {

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

#include "gateway/connection_limits.hpp"

#include <filesystem>
#include <system_error>

namespace cohort::http {

std::shared_ptr<connection_slot> connections_per_address::admit(const std::string& address, bool exempt) {
  if (cap_ <= 0 || exempt) return std::make_shared<connection_slot>(shared_from_this(), std::string());
  std::lock_guard lock(mutex_);
  auto& open = open_[address];
  if (open >= cap_) return nullptr;
  ++open;
  return std::make_shared<connection_slot>(shared_from_this(), address);
}

void connections_per_address::release(const std::string& address) {
  std::lock_guard lock(mutex_);
  auto it = open_.find(address);
  if (it != open_.end() && --it->second <= 0) open_.erase(it);
}

connection_slot::~connection_slot() {
  if (!address_.empty()) counts_->release(address_);
}

void spool_file::remove() {
  if (path_.empty()) return;
  std::error_code ignored;
  std::filesystem::remove(path_, ignored);
  path_.clear();
}

bool upload_slot::take(std::atomic<int>& in_flight, int max) {
  if (counter_) return true;
  if (in_flight.fetch_add(1) >= max) {
    --in_flight;
    return false;
  }
  counter_ = &in_flight;
  return true;
}

void upload_slot::release() {
  if (counter_) --*counter_;
  counter_ = nullptr;
}

}  // namespace cohort::http

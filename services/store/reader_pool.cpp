#include "store/reader_pool.hpp"

namespace cohort::store {

reader_pool::reader_pool(const std::string& path, std::size_t connections, int busy_timeout_ms) {
  open_options options;
  options.read_only = true;
  options.busy_timeout_ms = busy_timeout_ms;
  connections_.reserve(connections);
  for (std::size_t i = 0; i < connections; ++i) connections_.emplace_back(path, options);
  for (auto& db : connections_) free_.push_back(&db);
}

reader_pool::lease reader_pool::acquire() {
  std::unique_lock lock(mutex_);
  available_.wait(lock, [this] { return !free_.empty(); });
  database* db = free_.back();
  free_.pop_back();
  return lease(*this, db);
}

void reader_pool::release(database* db) {
  {
    std::lock_guard lock(mutex_);
    free_.push_back(db);
  }
  available_.notify_one();
}

}  // namespace cohort::store

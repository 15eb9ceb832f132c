// Read-only connections shared by the request threads. WAL lets them read while the writer
// commits. acquire() blocks until one is free; the lease gives it back when it goes out of scope.
#pragma once

#include "store/sqlite.hpp"

#include <condition_variable>
#include <mutex>
#include <vector>

namespace cohort::store {

class reader_pool {
 public:
  reader_pool(const std::string& path, std::size_t connections, int busy_timeout_ms);

  class lease {
   public:
    lease(reader_pool& pool, database* db) : pool_(&pool), db_(db) {}
    lease(lease&& other) noexcept : pool_(other.pool_), db_(other.db_) { other.db_ = nullptr; }
    lease(const lease&) = delete;
    lease& operator=(const lease&) = delete;
    lease& operator=(lease&&) = delete;
    ~lease() { if (db_) pool_->release(db_); }
    database& operator*() const { return *db_; }
    database* operator->() const { return db_; }

   private:
    reader_pool* pool_;
    database* db_;
  };

  lease acquire();

 private:
  void release(database* db);

  std::vector<database> connections_;
  std::vector<database*> free_;
  std::mutex mutex_;
  std::condition_variable available_;
};

}  // namespace cohort::store

#include "store/sqlite_writer.hpp"

#include "common/storage_full.hpp"
#include "metrics/metrics.hpp"

#include <chrono>
#include <vector>

namespace cohort::store {

namespace {

// A full disk is the caller's answer (507, try later), not an internal error: the write was undone.
std::exception_ptr as_domain_error(std::exception_ptr failure) {
  try {
    std::rethrow_exception(failure);
  } catch (const sqlite_error& e) {
    if (e.code() == SQLITE_FULL) return std::make_exception_ptr(common::storage_full());
  } catch (...) {
  }
  return failure;
}

}  // namespace

sqlite_writer::sqlite_writer(database db, options opts, metrics::registry* metrics)
    : db_(std::move(db)), opts_(opts), metrics_(metrics), thread_([this] { run(); }) {}

sqlite_writer::~sqlite_writer() { stop(); }

bool sqlite_writer::submit(work w, completion done) {
  {
    std::lock_guard lock(mutex_);
    if (stopping_ || queue_.size() >= opts_.queue_max) {
      if (metrics_) metrics_->sqlite_write_rejected.add();
      return false;
    }
    queue_.push_back(job{std::move(w), std::move(done)});
  }
  wake_.notify_one();
  return true;
}

void sqlite_writer::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void sqlite_writer::run() {
  std::deque<job> batch;
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping and drained
      const auto n = std::min(queue_.size(), opts_.batch_max);
      for (std::size_t i = 0; i < n; ++i) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    run_batch(batch);
    batch.clear();
  }
}

void sqlite_writer::run_batch(std::deque<job>& batch) {
  const auto started = std::chrono::steady_clock::now();
  std::vector<std::exception_ptr> errors(batch.size());
  try {
    transaction tx(db_);
    for (std::size_t i = 0; i < batch.size(); ++i) {
      db_.cached("SAVEPOINT write").run();
      try {
        batch[i].apply(db_);
        db_.cached("RELEASE write").run();
      } catch (...) {
        errors[i] = std::current_exception();
        // SQLITE_FULL or an I/O error may have rolled back the whole transaction: then the writes
        // before this one are undone too, and the batch fails with this error.
        if (sqlite3_get_autocommit(db_.handle())) throw;
        db_.cached("ROLLBACK TO write").run();
        db_.cached("RELEASE write").run();
      }
    }
    tx.commit();
  } catch (...) {
    // BEGIN or COMMIT failed (disk full, I/O error): nothing of this batch is durable.
    const auto failure = std::current_exception();
    for (auto& e : errors) e = failure;
  }
  for (auto& e : errors)
    if (e) e = as_domain_error(e);
  if (metrics_) {
    metrics_->sqlite_batch_size.observe(static_cast<double>(batch.size()));
    metrics_->sqlite_commit_seconds.observe(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  }
  for (std::size_t i = 0; i < batch.size(); ++i)
    if (batch[i].done) batch[i].done(errors[i]);
}

}  // namespace cohort::store

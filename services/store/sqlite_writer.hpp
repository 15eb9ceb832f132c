// The single writer: one thread owns the read-write connection and applies queued writes with
// group commit. It takes every write queued so far (up to batch_max), runs each inside its own
// SAVEPOINT of one transaction, commits once, and only then completes each write. So a caller
// that answers "201" from its completion knows the row is durable, and a write that throws rolls
// back alone without failing its neighbours in the batch.
#pragma once

#include "store/sqlite.hpp"

#include <condition_variable>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>

namespace cohort::metrics { struct registry; }

namespace cohort::store {

class sqlite_writer {
 public:
  // Runs on the writer thread inside the batch transaction; throw to undo just this write.
  using work = std::function<void(database&)>;
  // Runs on the writer thread after COMMIT (nullptr) or with the exception that undid the write.
  // Must not block: post the result to where it is needed.
  using completion = std::function<void(std::exception_ptr)>;

  struct options {
    std::size_t queue_max = 10000;
    std::size_t batch_max = 1000;
  };

  sqlite_writer(database db, options opts, metrics::registry* metrics = nullptr);
  ~sqlite_writer();
  sqlite_writer(const sqlite_writer&) = delete;
  sqlite_writer& operator=(const sqlite_writer&) = delete;

  // Thread-safe. False (and nothing queued) when the queue is full or the writer is stopping.
  bool submit(work w, completion done);
  // Finishes everything already queued, then joins the thread. Idempotent.
  void stop();

 private:
  struct job {
    work apply;
    completion done;
  };
  void run();
  void run_batch(std::deque<job>& batch);

  database db_;
  options opts_;
  metrics::registry* metrics_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<job> queue_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace cohort::store

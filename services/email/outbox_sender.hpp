// Drains the email outbox on one dedicated thread. Each pass reads up to `batch` due rows on the
// sender's own read-only connection, delivers them (SMTP one after the other through one
// kept-open smtp_sender, or .eml files written as one batch: eml_writer::deliver_batch, two
// syncs' wait per batch), and records all their results in one commit through the single
// writer, waiting for it before the next pass: the next read can never see a row as still due
// that this thread has already delivered. Each row's result is its own: a failure mid-batch
// queues that row again (backoff) and the others are marked sent. Delivery is at-least-once: a
// crash between the delivery (the relay's 250, the synced file) and the commit sends the
// message again, with the same bytes and Message-ID.
//
// Between passes it sleeps until the earliest retry is due (at most idle_poll), or until wake().
// Errors in a pass (SQLITE_BUSY, an I/O error) are logged to std::cerr and the pass is retried
// after a short pause; the thread only ends in stop().
#pragma once

#include "email/eml_writer.hpp"
#include "email/outbox_store.hpp"
#include "email/retry.hpp"
#include "email/smtp_sender.hpp"
#include "store/sqlite.hpp"
#include "store/sqlite_writer.hpp"

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace cohort::email {

class outbox_sender {
 public:
  struct options {
    std::string db_path;                     // the database file; opened read-only by the sender
    store::sqlite_writer* writer = nullptr;  // records each attempt; must outlive the sender
    std::optional<smtp_config> smtp;         // the relay; empty: write .eml files to eml_dir
    std::filesystem::path eml_dir = "data/outbox";
    std::string envelope_from;               // MAIL FROM; required (a plain address) with smtp
    retry_policy policy;
    int batch = 500;                         // rows read, delivered and recorded per pass
    std::chrono::milliseconds idle_poll{1000};  // the longest sleep when nothing is due
    // Called on the sender thread after each attempt's result committed, with the row as it was
    // read and its new state (queued again, sent or failed). For metrics; must not block long.
    std::function<void(const outbox_entry&, outbox_state)> on_result;
    std::function<std::int64_t()> clock;     // unix seconds; empty: std::time
    // Composes a row queued without its message (mime empty), on the sender's read connection;
    // the result is stored with the attempt. Throwing fails the row (it cannot be composed).
    std::function<composed_mail(store::database&, const outbox_entry&)> compose;
  };

  // Opens the read connection and the transport (creating eml_dir). Throws std::invalid_argument
  // for a missing writer, batch < 1, idle_poll <= 0 or an invalid envelope_from with smtp;
  // store::sqlite_error if the database cannot be opened.
  explicit outbox_sender(options opts);
  ~outbox_sender();  // stop()
  outbox_sender(const outbox_sender&) = delete;
  outbox_sender& operator=(const outbox_sender&) = delete;

  // Starts the thread. Throws std::logic_error if it is running.
  void start();
  // Thread-safe: read the outbox now. Call it after a transaction that enqueued mail committed.
  void wake();
  // Lets the delivery in flight (an .eml batch, or one SMTP message) finish and be recorded, then
  // joins; rows not yet reached stay queued. Idempotent; not from on_result (that runs on the thread being joined).
  void stop();

 private:
  // A row of the pass: its result once attempted, its new state once recorded.
  struct batch_attempt {
    outbox_entry entry;
    std::optional<composed_mail> composed;
    std::optional<send_result> result;  // empty: not attempted (stop() came first)
    outbox_state state = outbox_state::queued;
  };

  void run();
  std::vector<batch_attempt> deliver_batch(std::vector<outbox_entry> due);
  // Commits every attempted row's result at once; false when stop() came while it could not.
  bool record(std::vector<batch_attempt>& attempts);
  void report(const outbox_entry& entry, outbox_state state, const send_result& result);
  std::chrono::steady_clock::time_point next_pass();
  bool pause_until(std::chrono::steady_clock::time_point until);
  bool pause_for(std::chrono::milliseconds duration);
  bool stopping();
  std::int64_t now() const;

  options opts_;
  store::database db_;  // used only by the sender thread
  std::optional<smtp_sender> smtp_;
  std::optional<eml_writer> eml_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  bool woken_ = false;
  std::thread thread_;
};

}  // namespace cohort::email

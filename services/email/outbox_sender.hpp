// Drains the email outbox on one dedicated thread. Each pass reads the due rows on the sender's own
// read-only connection, delivers them one at a time (SMTP through one kept-open smtp_sender, or
// .eml files when no relay is configured), and records each result through the single writer,
// waiting for that write to commit before the next row: the next read can never see a row as
// still due that this thread has already delivered. Delivery is at-least-once: a crash between
// the relay's 250 and the commit sends the message again, with the same bytes and Message-ID.
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
    int batch = 20;                          // rows read per pass
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
  // Lets the delivery in flight finish and be recorded, then joins; rows not yet reached stay
  // queued. Idempotent; not from on_result (that runs on the thread being joined).
  void stop();

 private:
  void run();
  send_result deliver(const outbox_entry& entry);
  std::optional<outbox_state> record(const outbox_entry& entry, const send_result& result,
                                     const std::optional<composed_mail>& composed);
  send_result attempt(outbox_entry& entry, std::optional<composed_mail>& composed);
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

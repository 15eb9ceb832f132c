#include "email/outbox_sender.hpp"

#include "common/describe.hpp"
#include "email/mime.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <ctime>
#include <future>
#include <iostream>
#include <memory>
#include <stdexcept>

namespace cohort::email {
namespace {

constexpr std::chrono::milliseconds queue_full_pause{50};
constexpr std::chrono::milliseconds error_pause{1000};

outbox_sender::options checked(outbox_sender::options o) {
  if (!o.writer) throw std::invalid_argument("outbox_sender: writer is required");
  if (o.batch < 1) throw std::invalid_argument("outbox_sender: batch must be at least 1");
  if (o.idle_poll <= std::chrono::milliseconds::zero())
    throw std::invalid_argument("outbox_sender: idle_poll must be positive");
  // Caught here, not per message: smtp_sender would refuse every message as permanently failed.
  if (o.smtp && !is_valid_address(o.envelope_from))
    throw std::invalid_argument("outbox_sender: envelope_from must be a plain address, got \"" + o.envelope_from +
                                "\"");
  return o;
}

}  // namespace

outbox_sender::outbox_sender(options opts)
    : opts_(checked(std::move(opts))), db_(opts_.db_path, store::open_options{.read_only = true}) {
  if (opts_.smtp) {
    smtp_.emplace(*opts_.smtp);
    smtp_->set_abort([this] { return stopping(); });  // a stop does not wait for a silent relay
  } else eml_.emplace(opts_.eml_dir);
}

outbox_sender::~outbox_sender() { stop(); }

void outbox_sender::start() {
  if (thread_.joinable()) throw std::logic_error("outbox_sender: already started");
  {
    std::lock_guard lock(mutex_);
    stopping_ = false;
    woken_ = false;
  }
  thread_ = std::thread([this] { run(); });
}

void outbox_sender::wake() {
  {
    std::lock_guard lock(mutex_);
    woken_ = true;
  }
  wake_.notify_one();
}

void outbox_sender::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void outbox_sender::run() {
  // Mail is background work: under load, requests (signups) get the CPU first. Linux gives each
  // thread its own nice value; failing to lower it changes nothing else.
  (void)::setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), 10);
  while (!stopping()) {
    try {
      auto due = next_due(db_, now(), opts_.batch);
      const bool full = static_cast<int>(due.size()) == opts_.batch;
      auto attempts = deliver_batch(std::move(due));
      const bool recorded = record(attempts);
      // Only attempts made are recorded: the rest of a batch cut short by stop() stays due.
      for (const auto& a : attempts)
        if (a.result) report(a.entry, a.state, *a.result);
      if (!recorded || stopping()) return;  // a delivery not recorded stays due: sent again
      if (full) continue;  // a full batch: more may be due
      pause_until(next_pass());
    } catch (...) {
      std::cerr << "cohort: email sender: " << common::describe(std::current_exception()) << "; trying again in "
                << error_pause.count() << " ms\n";
      pause_for(error_pause);
    }
  }
}

std::vector<outbox_sender::batch_attempt> outbox_sender::deliver_batch(std::vector<outbox_entry> due) {
  std::vector<batch_attempt> attempts;
  attempts.reserve(due.size());
  for (auto& entry : due) {
    auto& a = attempts.emplace_back();
    a.entry = std::move(entry);
    if (!a.entry.mime.empty()) continue;
    if (!opts_.compose) {
      a.result = send_result{send_outcome::permanent, 0, "the message was queued without content"};
      continue;
    }
    try {
      a.composed = opts_.compose(db_, a.entry);
      a.entry.mime = a.composed->mime;
      a.entry.subject = a.composed->subject;
    } catch (const std::exception& e) {
      a.result = send_result{send_outcome::permanent, 0, std::string("cannot compose the message: ") + e.what()};
    }
  }
  if (smtp_) {
    // One kept-open connection carries the batch; stop() cuts it short between two messages.
    for (auto& a : attempts) {
      if (a.result) continue;
      if (stopping()) {
        a.composed.reset();  // not attempted: nothing to record
        continue;
      }
      a.result = smtp_->send(opts_.envelope_from, a.entry.to_addr, a.entry.mime);
      if (a.result->outcome != send_outcome::sent && stopping()) {
        a.result.reset();  // cut short by stop(): not an attempt, it stays due
        a.composed.reset();
      }
    }
    return attempts;
  }
  // Named by row and Message-ID, so delivering the row again replaces its file.
  std::vector<std::string> names;
  names.reserve(attempts.size());  // never reallocated: `files` views its strings
  std::vector<eml_writer::message> files;
  std::vector<batch_attempt*> owners;
  for (auto& a : attempts) {
    if (a.result) continue;
    names.push_back(std::to_string(a.entry.id) + "-" + a.entry.message_id);
    files.push_back({names.back(), a.entry.mime});
    owners.push_back(&a);
  }
  auto results = eml_->deliver_batch(files);
  for (std::size_t i = 0; i < owners.size(); ++i) owners[i]->result = std::move(results[i]);
  return attempts;
}

bool outbox_sender::record(std::vector<batch_attempt>& attempts) {
  if (std::none_of(attempts.begin(), attempts.end(), [](const batch_attempt& a) { return a.result.has_value(); }))
    return true;
  // The deliveries have happened; only their records are missing. Retrying the record (not the
  // whole pass) keeps a transient write failure from sending the messages twice. One commit
  // records the whole batch.
  for (;;) {
    const auto at = now();
    auto done = std::make_shared<std::promise<std::exception_ptr>>();
    auto committed = done->get_future();
    // The references stay valid: this thread waits for the completion before leaving the scope.
    const bool submitted = opts_.writer->submit(
        [this, &attempts, at](store::database& db) {
          for (auto& a : attempts) {
            if (!a.result) continue;
            if (a.composed) store_composed(db, a.entry.id, *a.composed);
            a.state = record_attempt(db, a.entry, *a.result, opts_.policy, at);
          }
        },
        [done](std::exception_ptr error) { done->set_value(error); });
    if (submitted) {
      const auto error = committed.get();
      if (!error) return true;
      std::cerr << "cohort: email: cannot record " << attempts.size() << " attempts: " << common::describe(error)
                << "; trying again in " << error_pause.count() << " ms\n";
    }
    if (!pause_for(submitted ? error_pause : queue_full_pause)) {
      for (auto& a : attempts) a.result.reset();  // not recorded: nothing to report
      return false;
    }
  }
}

void outbox_sender::report(const outbox_entry& entry, outbox_state state, const send_result& result) {
  // One line per final state; addresses but never the message. Built first: one write per line.
  if (state != outbox_state::queued) {
    std::string line = "cohort: email " + std::to_string(entry.id) + " to " + entry.to_addr;
    line += state == outbox_state::sent ? " sent\n" : " failed: " + result.error + "\n";
    std::cerr << line;
  }
  if (opts_.on_result) opts_.on_result(entry, state);
}

std::chrono::steady_clock::time_point outbox_sender::next_pass() {
  std::chrono::milliseconds wait = opts_.idle_poll;
  if (const auto at = next_due_at(db_))
    wait = std::min<std::chrono::milliseconds>(wait, std::chrono::seconds(std::max<std::int64_t>(0, *at - now())));
  return std::chrono::steady_clock::now() + wait;
}

// Both return false once stop() was called. wake() also ends the pause: a wake() that came while
// a pass was running makes the next pass start at once, so no enqueued message waits a full sleep.
bool outbox_sender::pause_until(std::chrono::steady_clock::time_point until) {
  std::unique_lock lock(mutex_);
  wake_.wait_until(lock, until, [this] { return stopping_ || woken_; });
  woken_ = false;
  return !stopping_;
}

bool outbox_sender::pause_for(std::chrono::milliseconds duration) {
  return pause_until(std::chrono::steady_clock::now() + duration);
}

bool outbox_sender::stopping() {
  std::lock_guard lock(mutex_);
  return stopping_;
}

std::int64_t outbox_sender::now() const {
  return opts_.clock ? opts_.clock() : static_cast<std::int64_t>(std::time(nullptr));
}

}  // namespace cohort::email

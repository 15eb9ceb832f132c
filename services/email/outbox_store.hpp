// The email outbox in SQLite (migration step 6) and the registrants' email preferences.
//
// enqueue() runs inside the transaction of the event that causes the message (a signup, a
// promotion, a released drop...), in the single writer, so a message exists exactly when its
// event committed. The sender thread reads due rows (next_due, on a reader connection) and
// records each attempt (mark_* / record_attempt, through the writer). A row is marked sent only
// after the relay accepted it: delivery is at-least-once, and a repeat carries the same bytes
// and Message-ID, so receiving systems can drop the duplicate. The mark_* functions only move
// rows that are still queued: a late or repeated mark cannot undo a final state.
#pragma once

#include "email/retry.hpp"
#include "store/sqlite.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace cohort::email {

enum class outbox_state { queued, sent, failed };
std::string_view to_string(outbox_state state);

// What enqueue() stores.
struct outbox_message {
  std::string message_id;  // make_message_id(...), also the Message-ID inside mime
  // Once-only identity: "confirm:<registration>", "waitlisted:<registration>",
  // "promoted:<registration>", "cancelled:<registration>", "drop:<drop>:<registration>",
  // reminder_dedupe_key(...) for reminders.
  std::string dedupe_key;
  std::string kind;        // the template name
  std::optional<std::int64_t> webinar_id;
  std::optional<std::int64_t> registration_id;
  std::string to_addr;     // the envelope recipient
  std::string subject;     // for the organizer's view; empty until composed
  std::string mime;        // render_mime(...), or empty: composed by the sender from kind + args
  std::string args = "{}"; // JSON: what the composer needs besides the registration (drop, session...)
};

// A message composed when it is first sent (see outbox_sender::options::compose).
struct composed_mail {
  std::string subject;
  std::string mime;
};

struct outbox_entry {
  std::int64_t id = 0;
  std::string message_id;
  std::string dedupe_key;
  std::string kind;
  std::optional<std::int64_t> webinar_id;
  std::optional<std::int64_t> registration_id;
  std::string to_addr;
  std::string subject;
  std::string mime;  // filled by next_due only (list_outbox leaves it empty); empty: not composed yet
  std::string args = "{}";
  outbox_state state = outbox_state::queued;
  int attempts = 0;
  std::int64_t next_attempt_at = 0;
  std::optional<std::string> last_error;
  std::int64_t created_at = 0;
  std::optional<std::int64_t> sent_at;
};

// Queues the message, due at `now`. False when its dedupe_key is already in the outbox (the
// message exists, whatever its state): the reminder sweep can run any number of times.
bool enqueue(store::database& db, const outbox_message& message, std::int64_t now);

// Queued messages with next_attempt_at <= now, the most overdue first.
std::vector<outbox_entry> next_due(store::database& db, std::int64_t now, int limit);
// The earliest next_attempt_at of a queued message: when the sender should wake up.
std::optional<std::int64_t> next_due_at(store::database& db);

// Each counts one attempt and returns false if the row was not queued (nothing changed).
bool mark_sent(store::database& db, std::int64_t id, std::int64_t now);
bool mark_retry(store::database& db, std::int64_t id, std::int64_t next_attempt_at, std::string_view error);
bool mark_failed(store::database& db, std::int64_t id, std::string_view error);

// Records the subject of a composed message for the organizer's view. The message itself is not
// stored: it is composed again for a retry — the same bytes (Date and DTSTAMP are the queue
// time), unless the database changed meanwhile or a reminder's "starts in" moved on — which
// keeps the writer's work per signup small.
void store_composed(store::database& db, std::int64_t id, const composed_mail& mail);

// Records one attempt's result: sent, failed (permanent, or the policy gives up), or queued
// again at the next backoff time (jitter seeded by the row id). Returns the row's new state.
outbox_state record_attempt(store::database& db, const outbox_entry& entry, const send_result& result,
                            const retry_policy& policy, std::int64_t now);

// One row with its stored message (empty when composed at send time); nullopt when unknown.
std::optional<outbox_entry> find_entry(store::database& db, std::int64_t id);

// The organizer's view of a series' mail, newest first (mime left empty).
std::vector<outbox_entry> list_outbox(store::database& db, std::int64_t webinar_id, int limit = 500);

struct outbox_counts {
  std::int64_t queued = 0, sent = 0, failed = 0;
};
// Over the whole outbox, or one series.
outbox_counts count_by_state(store::database& db, std::optional<std::int64_t> webinar_id = std::nullopt);

// One-click unsubscribe (RFC 8058): idempotent, the first time is kept. The registration must exist.
void unsubscribe(store::database& db, std::int64_t registration_id, std::int64_t now);
bool is_unsubscribed(store::database& db, std::int64_t registration_id);
// Drop notices are opt-out: on unless turned off, and off once unsubscribed.
void set_drop_notices(store::database& db, std::int64_t registration_id, bool on, std::int64_t now);
bool wants_drop_notices(store::database& db, std::int64_t registration_id);

}  // namespace cohort::email

#include "email/outbox_store.hpp"

// Single-row reads use prepare(), not cached(): a cached statement left on its row would keep a
// reader connection's snapshot open until its next use.
namespace cohort::email {
namespace {

constexpr const char* select_entry =
    "SELECT id, message_id, dedupe_key, kind, webinar_id, registration_id, to_addr, subject, state, attempts,"
    " next_attempt_at, last_error, created_at, sent_at, args";

outbox_state parse_state(const std::string& s) {
  if (s == "sent") return outbox_state::sent;
  if (s == "failed") return outbox_state::failed;
  return outbox_state::queued;
}

// Reads the columns of select_entry; mime, when selected, is column 15.
outbox_entry read_entry(const store::statement& st, bool with_mime) {
  outbox_entry e;
  e.id = st.int64(0);
  e.message_id = st.text(1);
  e.dedupe_key = st.text(2);
  e.kind = st.text(3);
  e.webinar_id = st.optional_int64(4);
  e.registration_id = st.optional_int64(5);
  e.to_addr = st.text(6);
  e.subject = st.text(7);
  e.state = parse_state(st.text(8));
  e.attempts = static_cast<int>(st.int64(9));
  e.next_attempt_at = st.int64(10);
  if (!st.is_null(11)) e.last_error = st.text(11);
  e.created_at = st.int64(12);
  e.sent_at = st.optional_int64(13);
  e.args = st.text(14);
  if (with_mime) e.mime = st.text(15);
  return e;
}

}  // namespace

std::string_view to_string(outbox_state state) {
  switch (state) {
    case outbox_state::sent: return "sent";
    case outbox_state::failed: return "failed";
    default: return "queued";
  }
}

bool enqueue(store::database& db, const outbox_message& m, std::int64_t now) {
  // Only a dedupe_key conflict is expected; a repeated message_id is a caller bug and throws.
  auto& st = db.cached(
      "INSERT INTO outbox (message_id, dedupe_key, kind, webinar_id, registration_id, to_addr, subject, mime,"
      " next_attempt_at, created_at, args) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (dedupe_key) DO NOTHING");
  st.bind(1, m.message_id)
      .bind(2, m.dedupe_key)
      .bind(3, m.kind)
      .bind(4, m.webinar_id)
      .bind(5, m.registration_id)
      .bind(6, m.to_addr)
      .bind(7, m.subject)
      .bind(8, m.mime)
      .bind(9, now)
      .bind(10, now)
      .bind(11, m.args)
      .run();
  return db.changes() == 1;
}

void store_composed(store::database& db, std::int64_t id, const composed_mail& mail) {
  db.prepare("UPDATE outbox SET subject = ? WHERE id = ? AND subject = ''").bind(1, mail.subject).bind(2, id).run();
}

std::vector<outbox_entry> next_due(store::database& db, std::int64_t now, int limit) {
  auto& st = db.cached(std::string(select_entry) +
                       ", mime FROM outbox WHERE state = 'queued' AND next_attempt_at <= ?"
                       " ORDER BY next_attempt_at, id LIMIT ?");
  st.bind(1, now).bind(2, limit);
  std::vector<outbox_entry> out;
  while (st.step()) out.push_back(read_entry(st, true));
  return out;
}

std::optional<std::int64_t> next_due_at(store::database& db) {
  auto st = db.prepare("SELECT min(next_attempt_at) FROM outbox WHERE state = 'queued'");
  st.step();
  return st.optional_int64(0);
}

bool mark_sent(store::database& db, std::int64_t id, std::int64_t now) {
  db.cached(
        "UPDATE outbox SET state = 'sent', attempts = attempts + 1, sent_at = ?, last_error = NULL"
        " WHERE id = ? AND state = 'queued'")
      .bind(1, now)
      .bind(2, id)
      .run();
  return db.changes() == 1;
}

bool mark_retry(store::database& db, std::int64_t id, std::int64_t next_attempt_at, std::string_view error) {
  db.cached(
        "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?, last_error = ?"
        " WHERE id = ? AND state = 'queued'")
      .bind(1, next_attempt_at)
      .bind(2, error)
      .bind(3, id)
      .run();
  return db.changes() == 1;
}

bool mark_failed(store::database& db, std::int64_t id, std::string_view error) {
  db.cached("UPDATE outbox SET state = 'failed', attempts = attempts + 1, last_error = ? WHERE id = ? AND state = 'queued'")
      .bind(1, error)
      .bind(2, id)
      .run();
  return db.changes() == 1;
}

outbox_state record_attempt(store::database& db, const outbox_entry& e, const send_result& r, const retry_policy& policy,
                            std::int64_t now) {
  switch (r.outcome) {
    case send_outcome::sent:
      mark_sent(db, e.id, now);
      return outbox_state::sent;
    case send_outcome::permanent:
      mark_failed(db, e.id, r.error);
      return outbox_state::failed;
    case send_outcome::retry: break;
  }
  const int failures = e.attempts + 1;
  if (const auto at = next_attempt_at(policy, failures, e.created_at, now, static_cast<std::uint64_t>(e.id))) {
    mark_retry(db, e.id, *at, r.error);
    return outbox_state::queued;
  }
  mark_failed(db, e.id, "gave up after " + std::to_string(failures) + " attempts: " + r.error);
  return outbox_state::failed;
}

std::optional<outbox_entry> find_entry(store::database& db, std::int64_t id) {
  auto st = db.prepare(std::string(select_entry) + ", mime FROM outbox WHERE id = ?");
  st.bind(1, id);
  if (!st.step()) return std::nullopt;
  return read_entry(st, true);
}

std::vector<outbox_entry> list_outbox(store::database& db, std::int64_t webinar_id, int limit) {
  auto st = db.prepare(std::string(select_entry) + " FROM outbox WHERE webinar_id = ? ORDER BY id DESC LIMIT ?");
  st.bind(1, webinar_id).bind(2, limit);
  std::vector<outbox_entry> out;
  while (st.step()) out.push_back(read_entry(st, false));
  return out;
}

outbox_counts count_by_state(store::database& db, std::optional<std::int64_t> webinar_id) {
  auto st = db.prepare("SELECT state, count(*) FROM outbox WHERE ?1 IS NULL OR webinar_id = ?1 GROUP BY state");
  st.bind(1, webinar_id);
  outbox_counts c;
  while (st.step()) {
    const auto n = st.int64(1);
    switch (parse_state(st.text(0))) {
      case outbox_state::queued: c.queued = n; break;
      case outbox_state::sent: c.sent = n; break;
      case outbox_state::failed: c.failed = n; break;
    }
  }
  return c;
}

void unsubscribe(store::database& db, std::int64_t registration_id, std::int64_t now) {
  db.prepare(
        "INSERT INTO email_prefs (registration_id, unsubscribed_at, updated_at) VALUES (?1, ?2, ?2)"
        " ON CONFLICT (registration_id) DO UPDATE SET"
        " unsubscribed_at = coalesce(unsubscribed_at, excluded.unsubscribed_at), updated_at = excluded.updated_at")
      .bind(1, registration_id)
      .bind(2, now)
      .run();
}

bool is_unsubscribed(store::database& db, std::int64_t registration_id) {
  auto st = db.prepare("SELECT unsubscribed_at IS NOT NULL FROM email_prefs WHERE registration_id = ?");
  st.bind(1, registration_id);
  return st.step() && st.int64(0) != 0;
}

void set_drop_notices(store::database& db, std::int64_t registration_id, bool on, std::int64_t now) {
  db.prepare(
        "INSERT INTO email_prefs (registration_id, drop_notices, updated_at) VALUES (?1, ?2, ?3)"
        " ON CONFLICT (registration_id) DO UPDATE SET drop_notices = excluded.drop_notices, updated_at = excluded.updated_at")
      .bind(1, registration_id)
      .bind(2, on ? 1 : 0)
      .bind(3, now)
      .run();
}

bool wants_drop_notices(store::database& db, std::int64_t registration_id) {
  auto st = db.prepare("SELECT drop_notices, unsubscribed_at IS NOT NULL FROM email_prefs WHERE registration_id = ?");
  st.bind(1, registration_id);
  if (!st.step()) return true;
  return st.int64(0) != 0 && st.int64(1) == 0;
}

}  // namespace cohort::email

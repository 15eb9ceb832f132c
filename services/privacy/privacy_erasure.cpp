#include "privacy/privacy_erasure.hpp"

#include "common/errors.hpp"
#include "registration/registration_store.hpp"

namespace cohort::privacy {

const char* reason_name(reason r) {
  switch (r) {
    case reason::registrant: return "registrant";
    case reason::organizer: return "organizer";
    case reason::retention: return "retention";
  }
  return "organizer";
}

namespace {

int run(store::database& db, const char* sql, std::int64_t registration_id, std::int64_t webinar_id = 0) {
  auto st = db.prepare(sql);
  st.bind(1, registration_id);
  if (webinar_id) st.bind(2, webinar_id);
  st.run();
  return db.changes();
}

// What the registrant wrote or was sent, without the rows that counts are made of.
int scrub(store::database& db, std::int64_t webinar_id, std::int64_t id) {
  int changed = 0;
  changed += run(db, "DELETE FROM registration_answers WHERE registration_id = ?1", id);
  changed += run(db, "DELETE FROM registration_links WHERE registration_id = ?1", id);
  changed += run(db, "DELETE FROM email_prefs WHERE registration_id = ?1", id);
  changed += run(db, "UPDATE chat_messages SET from_name = '[erased]', text = '[erased]' "
                     "WHERE webinar_id = ?2 AND from_id = ?1 AND role = 'registrant'", id, webinar_id);
  changed += run(db, "UPDATE qa_questions SET asker_name = '[erased]', text = '[erased]' WHERE webinar_id = ?2 AND asker_id = ?1",
                 id, webinar_id);
  // Queued mail would go to an address that is no longer theirs to keep: it fails instead.
  changed += run(db, "UPDATE outbox SET state = 'failed', last_error = 'erased' WHERE registration_id = ?1 AND state = 'queued'", id);
  changed += run(db, "UPDATE outbox SET to_addr = '', args = '{}', mime = '' WHERE registration_id = ?1", id);
  changed += run(db, "UPDATE ce_attempts SET answers = NULL WHERE registration_id = ?1 AND answers IS NOT NULL", id);
  return changed;
}

}  // namespace

erasure erase_registration(store::database& db, std::int64_t webinar_id, std::int64_t registration_id, reason why,
                           std::int64_t now, const registration::mail_hooks* mail, bool log_row) {
  auto st = db.prepare("SELECT webinar_id, status, erased_at, token_hash FROM registrations WHERE id = ?");
  st.bind(1, registration_id);
  if (!st.step() || (webinar_id != 0 && st.int64(0) != webinar_id))
    throw common::not_found("there is no registration " + std::to_string(registration_id) +
                            (webinar_id ? " in webinar " + std::to_string(webinar_id) : std::string()));
  erasure out;
  out.webinar_id = st.int64(0);
  out.registration_id = registration_id;
  const std::string status = st.text(1);
  if (auto at = st.optional_int64(2)) {
    out.already = true;
    out.erased_at = *at;
    return out;
  }
  out.token_nonce_hash = st.text(3);
  out.erased_at = now;
  if (status != "cancelled") {
    // The registration's own cancel path, so the seat frees and the waitlist moves up exactly as
    // when they cancel; no "you cancelled" mail: the address is about to go.
    std::vector<std::int64_t> promoted;
    registration::cancel_registration(db, registration_id, now, &promoted);
    if (mail) mail->promoted_all(db, promoted);
    out.seated = registration::token_hashes_of(db, promoted);
    out.was_active = true;
  }
  // The unique index on (webinar, email_key) covers active rows only; the id keeps them unique anyway.
  const std::string nowhere = "erased-" + std::to_string(registration_id);
  db.prepare("UPDATE registrations SET name = ?, email = ?, email_key = ?, profession = '', time_zone = '', erased_at = ?, "
             "updated_at = ? WHERE id = ?")
      .bind(1, erased_name)
      .bind(2, nowhere)
      .bind(3, nowhere)
      .bind(4, now)
      .bind(5, now)
      .bind(6, registration_id)
      .run();
  const int changed = 1 + scrub(db, out.webinar_id, registration_id);
  if (log_row)
    db.prepare("INSERT INTO erasures (webinar_id, registration_id, reason, erased_at, rows) VALUES (?, ?, ?, ?, ?)")
        .bind(1, out.webinar_id)
        .bind(2, registration_id)
        .bind(3, reason_name(why))
        .bind(4, now)
        .bind(5, changed)
        .run();
  return out;
}

}  // namespace cohort::privacy

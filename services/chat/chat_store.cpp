#include "chat/chat_store.hpp"

#include "common/bytes.hpp"
#include "gateway/auth.hpp"

namespace cohort::chat {

void insert_transcript(store::database& db, const transcript_entry& e) {
  db.cached("INSERT OR IGNORE INTO chat_messages (webinar_id, message_id, seq, sent_at, from_id, from_name, role, text)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
      .bind(1, e.webinar_id)
      .bind(2, e.id)
      .bind(3, e.seq)
      .bind(4, e.sent_at)
      .bind(5, e.from.id)
      .bind(6, e.from.name)
      .bind(7, e.from.role)
      .bind(8, e.text)
      .run();
}

bool mark_deleted(store::database& db, std::int64_t webinar_id, const std::string& message_id) {
  db.prepare("UPDATE chat_messages SET deleted = 1 WHERE webinar_id = ? AND message_id = ?")
      .bind(1, webinar_id)
      .bind(2, message_id)
      .run();
  return db.changes() > 0;
}

void add_ban(store::database& db, std::int64_t webinar_id, std::int64_t registration_id, std::int64_t now) {
  db.prepare("INSERT OR IGNORE INTO chat_bans (webinar_id, registration_id, created_at) VALUES (?, ?, ?)")
      .bind(1, webinar_id)
      .bind(2, registration_id)
      .bind(3, now)
      .run();
}

bool is_banned(store::database& db, std::int64_t webinar_id, std::int64_t registration_id) {
  auto st = db.prepare("SELECT 1 FROM chat_bans WHERE webinar_id = ? AND registration_id = ?");
  st.bind(1, webinar_id).bind(2, registration_id);
  return st.step();
}

void set_mute(store::database& db, std::int64_t webinar_id, std::int64_t registration_id, std::int64_t until) {
  db.prepare(
        "INSERT INTO chat_mutes (webinar_id, registration_id, until) VALUES (?, ?, ?)"
        " ON CONFLICT (webinar_id, registration_id) DO UPDATE SET until = max(until, excluded.until)")
      .bind(1, webinar_id)
      .bind(2, registration_id)
      .bind(3, until)
      .run();
}

std::vector<std::string> mute_frames(store::database& db, std::int64_t webinar_id, std::int64_t now) {
  auto st = db.prepare("SELECT registration_id, until FROM chat_mutes WHERE webinar_id = ? AND until > ?");
  st.bind(1, webinar_id).bind(2, now);
  std::vector<std::string> out;
  while (st.step()) out.push_back(mute_frame(st.int64(0), st.int64(1)));
  return out;
}

std::vector<std::string> revocation_entries(store::database& db) {
  std::vector<std::string> out;
  auto bans = db.prepare("SELECT webinar_id, registration_id FROM chat_bans");
  while (bans.step()) out.push_back(ban_entry(bans.int64(0), bans.int64(1)));
  auto cancelled = db.prepare("SELECT token_hash FROM registrations WHERE status = 'cancelled'");
  while (cancelled.step()) out.push_back(token_entry(cancelled.text(0)));
  // The unconfirmed (registration.confirm_email) are kept out of the room like the waitlist.
  auto waitlisted =
      db.prepare("SELECT token_hash FROM registrations WHERE status = 'waitlisted' OR (status = 'registered' AND confirm_by IS NOT NULL)");
  while (waitlisted.step()) out.push_back(waitlist_entry(waitlisted.text(0)));
  auto promoted = db.prepare("SELECT token_hash FROM registrations WHERE status = 'registered' AND promoted_at IS NOT NULL");
  while (promoted.step()) out.push_back(seated_entry(promoted.text(0)));
  auto deleted = db.prepare("SELECT id FROM deleted_webinars");
  while (deleted.step()) out.push_back(deleted_entry(deleted.int64(0)));
  return out;
}

std::string ban_entry(std::int64_t webinar_id, std::int64_t registration_id) {
  return "b:" + std::to_string(webinar_id) + ":" + std::to_string(registration_id);
}

std::string token_entry(std::string_view token_nonce_hash) { return "t:" + common::hex(token_nonce_hash); }
std::string waitlist_entry(std::string_view token_nonce_hash) { return "w:" + common::hex(token_nonce_hash); }
std::string seated_entry(std::string_view token_nonce_hash) { return "s:" + common::hex(token_nonce_hash); }
std::string deleted_entry(std::int64_t webinar_id) { return "d:" + std::to_string(webinar_id); }

void for_each_transcript(store::database& db, std::int64_t webinar_id, const std::function<void(const transcript_row&)>& visit) {
  auto st = db.prepare(
      "SELECT seq, message_id, sent_at, from_id, from_name, role, text, deleted FROM chat_messages"
      " WHERE webinar_id = ? ORDER BY rowid");
  st.bind(1, webinar_id);
  while (st.step())
    visit(transcript_row{st.int64(0), st.text(1), st.int64(2), st.int64(3), st.text(4), st.text(5), st.text(6), st.int64(7) != 0});
}

}  // namespace cohort::chat

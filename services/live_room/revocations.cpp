#include "live_room/revocations.hpp"

#include "common/bytes.hpp"
#include "gateway/auth.hpp"

namespace cohort::live_room {

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

}  // namespace cohort::live_room

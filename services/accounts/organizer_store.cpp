#include "accounts/organizer_store.hpp"

namespace cohort::accounts {

organizer add_organizer(store::database& db, const std::string& email, const std::string& email_key,
                        const std::string& password_hash, std::int64_t now) {
  auto exists = db.prepare("SELECT 1 FROM organizers WHERE email_key = ?");
  exists.bind(1, email_key);
  if (exists.step()) throw duplicate_organizer("an organizer with this email already exists");
  db.prepare("INSERT INTO organizers (email, email_key, password_hash, created_at) VALUES (?, ?, ?, ?)")
      .bind(1, email)
      .bind(2, email_key)
      .bind(3, password_hash)
      .bind(4, now)
      .run();
  return {db.last_insert_rowid(), email, now};
}

bool set_password(store::database& db, const std::string& email_key, const std::string& password_hash) {
  db.prepare("UPDATE organizers SET password_hash = ? WHERE email_key = ?").bind(1, password_hash).bind(2, email_key).run();
  if (db.changes() == 0) return false;
  // A new password ends every session opened with the old one.
  db.prepare("DELETE FROM organizer_sessions WHERE organizer_id = (SELECT id FROM organizers WHERE email_key = ?)")
      .bind(1, email_key)
      .run();
  return true;
}

bool remove_organizer(store::database& db, const std::string& email_key) {
  auto find = db.prepare("SELECT id FROM organizers WHERE email_key = ?");
  find.bind(1, email_key);
  if (!find.step()) return false;
  const auto id = find.int64(0);
  // Explicit, so it holds even on a connection without foreign_keys enforcement.
  db.prepare("DELETE FROM organizer_sessions WHERE organizer_id = ?").bind(1, id).run();
  db.prepare("DELETE FROM organizers WHERE id = ?").bind(1, id).run();
  return true;
}

std::vector<organizer> list_organizers(store::database& db) {
  std::vector<organizer> out;
  auto st = db.prepare("SELECT id, email, created_at FROM organizers ORDER BY email_key");
  while (st.step()) out.push_back({st.int64(0), st.text(1), st.int64(2)});
  return out;
}

std::optional<organizer_login> find_login(store::database& db, const std::string& email_key) {
  auto st = db.prepare("SELECT id, email, created_at, password_hash FROM organizers WHERE email_key = ?");
  st.bind(1, email_key);
  if (!st.step()) return std::nullopt;
  return organizer_login{{st.int64(0), st.text(1), st.int64(2)}, st.text(3)};
}

void create_session(store::database& db, const std::string& id_hash, std::int64_t organizer_id, std::int64_t now,
                    std::int64_t expires_at) {
  db.prepare("DELETE FROM organizer_sessions WHERE expires_at <= ?").bind(1, now).run();
  db.prepare("INSERT INTO organizer_sessions (id_hash, organizer_id, created_at, expires_at) VALUES (?, ?, ?, ?)")
      .bind(1, id_hash)
      .bind(2, organizer_id)
      .bind(3, now)
      .bind(4, expires_at)
      .run();
}

std::optional<session_record> find_session(store::database& db, const std::string& id_hash, std::int64_t now) {
  auto& st = db.cached(
      "SELECT o.id, o.email, o.created_at, s.expires_at FROM organizer_sessions s JOIN organizers o ON o.id = s.organizer_id"
      " WHERE s.id_hash = ? AND s.expires_at > ?");
  st.bind(1, id_hash).bind(2, now);
  if (!st.step()) return std::nullopt;
  session_record out{{st.int64(0), st.text(1), st.int64(2)}, st.int64(3)};
  st.reset();
  return out;
}

void delete_session(store::database& db, const std::string& id_hash) {
  db.prepare("DELETE FROM organizer_sessions WHERE id_hash = ?").bind(1, id_hash).run();
}

}  // namespace cohort::accounts

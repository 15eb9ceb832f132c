#include "live_room/channels/chat/chat_store.hpp"

#include "live_room/channels/chat/chat_channel.hpp"

namespace cohort::live_room {

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

void for_each_transcript(store::database& db, std::int64_t webinar_id, const std::function<void(const transcript_row&)>& visit) {
  auto st = db.prepare(
      "SELECT seq, message_id, sent_at, from_id, from_name, role, text, deleted FROM chat_messages"
      " WHERE webinar_id = ? ORDER BY rowid");
  st.bind(1, webinar_id);
  while (st.step())
    visit(transcript_row{st.int64(0), st.text(1), st.int64(2), st.int64(3), st.text(4), st.text(5), st.text(6), st.int64(7) != 0});
}

}  // namespace cohort::live_room

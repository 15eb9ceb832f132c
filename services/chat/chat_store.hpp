// The chat's durable side in SQLite: the transcript (written through the single writer, not
// on the delivery path) and the bans that must survive a restart.
#pragma once

#include "chat/chat_room.hpp"
#include "store/sqlite.hpp"

#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace cohort::chat {

void insert_transcript(store::database& db, const transcript_entry& e);
// False when the webinar has no such message.
bool mark_deleted(store::database& db, std::int64_t webinar_id, const std::string& message_id);
void add_ban(store::database& db, std::int64_t webinar_id, std::int64_t registration_id, std::int64_t now);
bool is_banned(store::database& db, std::int64_t webinar_id, std::int64_t registration_id);
// A mute only ever extends.
void set_mute(store::database& db, std::int64_t webinar_id, std::int64_t registration_id, std::int64_t until);
// The mutes still running, as x.mute state frames.
std::vector<std::string> mute_frames(store::database& db, std::int64_t webinar_id, std::int64_t now);

// Revocation list entries (chat_bus::revoke) for a ban and for a cancelled registration's token.
std::string ban_entry(std::int64_t webinar_id, std::int64_t registration_id);
std::string token_entry(std::string_view token_nonce_hash);
// The waitlist on the same grow-only list: "w:" when a signup lands on the waitlist, "s:" when
// it is promoted to a seat. An edge refuses a token with w: and no s:.
std::string waitlist_entry(std::string_view token_nonce_hash);
std::string seated_entry(std::string_view token_nonce_hash);
// "d:<webinar>": the series was deleted; every token of it is refused (see deleted_webinars).
std::string deleted_entry(std::int64_t webinar_id);
// Every entry the database implies: all bans, all cancelled registrations' tokens, the
// waitlisted ones' (w:), the promoted ones' (s:) and the deleted series (d:).
std::vector<std::string> revocation_entries(store::database& db);

struct transcript_row {
  std::int64_t seq = 0;
  std::string message_id;
  std::int64_t sent_at = 0;
  std::int64_t from_id = 0;
  std::string from_name;
  std::string role;
  std::string text;
  bool deleted = false;
};
void for_each_transcript(store::database& db, std::int64_t webinar_id, const std::function<void(const transcript_row&)>& visit);

}  // namespace cohort::chat

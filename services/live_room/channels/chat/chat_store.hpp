// The chat's durable side in SQLite: the transcript (written through the single writer, not
// on the delivery path) and the mutes (bans are the room's admission: live_room/revocations.hpp).
#pragma once

#include "live_room/member.hpp"
#include "store/sqlite.hpp"

#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace cohort::live_room {

// A sequenced message, for the durable transcript (written by the primary, whichever node it came from).
struct transcript_entry {
  std::int64_t webinar_id = 0;
  std::int64_t seq = 0;
  std::string id;
  std::int64_t sent_at = 0;
  member_identity from;
  std::string text;
};

void insert_transcript(store::database& db, const transcript_entry& e);
// False when the webinar has no such message.
bool mark_deleted(store::database& db, std::int64_t webinar_id, const std::string& message_id);
// A mute only ever extends.
void set_mute(store::database& db, std::int64_t webinar_id, std::int64_t registration_id, std::int64_t until);
// The mutes still running, as x.mute state frames.
std::vector<std::string> mute_frames(store::database& db, std::int64_t webinar_id, std::int64_t now);

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

}  // namespace cohort::live_room

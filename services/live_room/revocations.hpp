// Who may not enter a room, durably: bans (SQLite), and the entries of the cluster's revocation
// list (room_bus::revoke) that the database implies, for edges, which have no database.
#pragma once

#include "store/sqlite.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace cohort::live_room {

void add_ban(store::database& db, std::int64_t webinar_id, std::int64_t registration_id, std::int64_t now);
bool is_banned(store::database& db, std::int64_t webinar_id, std::int64_t registration_id);
// Revocation list entries (room_bus::revoke) for a ban and for a cancelled registration's token.
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

}  // namespace cohort::live_room

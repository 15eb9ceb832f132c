// Signups in SQLite. Writes run inside sqlite_writer jobs, so each one sees every earlier write
// and none runs concurrently: the capacity check and the insert are atomic without extra locks.
#pragma once

#include "common/errors.hpp"
#include "gateway/auth.hpp"
#include "store/sqlite.hpp"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace cohort::registration {

struct signup_input {
  std::string name;
  std::string email;      // as typed (trimmed)
  std::string email_key;  // see email_key()
  std::string profession;
  std::string time_zone;  // a zone time_zone::find knows, or empty
};

// Why the live room (chat, live stream, replays) refuses a waitlisted registrant: 403 "waitlisted".
inline constexpr const char* waitlisted_message = "you are on the waitlist: the room opens for you when a seat frees up";
// ... and an unconfirmed one (registration.confirm_email): 403 "unconfirmed".
inline constexpr const char* unconfirmed_message = "confirm your registration first, with the link in the email we sent you";

struct signup_outcome {
  bool created = false;   // false: this email already holds an active registration (id: that one)
  bool unconfirmed = false;  // the registration (new or existing) waits for its confirmation link
  std::int64_t id = 0;
  std::string status;     // registered | waitlisted: the place it holds
  std::string token;      // the registrant's bearer token, only when created
  std::string token_nonce_hash;
};

struct registration_record {
  std::int64_t id = 0;
  std::int64_t webinar_id = 0;
  std::string name;
  std::string email;
  std::string profession;
  std::string status;
  std::int64_t created_at = 0;
  std::string time_zone;  // empty: not known
  std::optional<std::int64_t> confirm_by;  // unconfirmed: its hold lapses then; nullopt: confirmed
};

struct registration_page {
  std::vector<registration_record> items;
  std::int64_t total = 0;
  std::optional<std::int64_t> next_after;
};

// Throws common::not_found for an unknown webinar. `confirm_by` set: the new registration is
// unconfirmed and holds its place (a seat, or its turn on the waitlist) until then.
signup_outcome create_signup(store::database& db, std::int64_t webinar_id, const signup_input& input,
                             const http::token_codec& tokens, std::int64_t now,
                             std::optional<std::int64_t> confirm_by = std::nullopt);
// Confirms an unconfirmed registration (idempotent for a confirmed one). A waitlisted one then
// takes a free seat if the waitlist's order allows. Returns the record after; `promoted`
// receives the ids of others seated along with it. Throws common::not_found; common::gone ("expired")
// when its hold already lapsed.
registration_record confirm_registration(store::database& db, std::int64_t registration_id, std::int64_t now,
                                         std::vector<std::int64_t>* promoted = nullptr);
struct lapsed_hold {
  std::int64_t id = 0;
  std::int64_t webinar_id = 0;
  std::string token_nonce_hash;
};
// Cancels every unconfirmed registration whose hold ended by `now` (the waitlist moves up into
// the seats they held; `promoted` receives those ids). Returns the lapsed ones.
std::vector<lapsed_hold> lapse_unconfirmed(store::database& db, std::int64_t now, std::vector<std::int64_t>* promoted = nullptr);
// The registration a token was issued for; nullopt when it no longer exists, its personal data
// was erased (privacy), or the token's secret part does not match (a token from before the id was reused).
std::optional<registration_record> find_by_token(store::database& db, std::int64_t registration_id,
                                                 const std::string& nonce_hash);
// Every registrant route checks a token this way: the registration, or common::unauthorized when it
// is gone, the token's nonce does not match it, or it is cancelled. The live room (chat, stream,
// replays) then calls require_seat, which refuses the waitlisted (common::forbidden
// "waitlisted") and the unconfirmed ("unconfirmed").
registration_record active_registration(store::database& db, std::int64_t registration_id, const std::string& token_nonce_hash);
void require_seat(const registration_record& r);
// Cancels (idempotent) and, when a seat was freed, promotes the oldest waitlisted registrant.
// Returns the updated record; throws common::not_found.
// `promoted` (optional) receives the ids moved up from the waitlist.
registration_record cancel_registration(store::database& db, std::int64_t registration_id, std::int64_t now,
                                        std::vector<std::int64_t>* promoted = nullptr);
// Fills free seats from the waitlist, oldest confirmed first. Returns the promoted ids.
std::vector<std::int64_t> promote_waitlisted(store::database& db, std::int64_t webinar_id, std::int64_t now);

// `search` (may be empty): a case-insensitive substring of the name or the email.
registration_page list_registrations(store::database& db, std::int64_t webinar_id, const std::string& status_filter,
                                     std::int64_t after_id, int limit, const std::string& search = {});
// The stored SHA-256 of a registration's token secret (what cancellation revokes); empty when
// the webinar has no such registration.
std::string token_hash_of(store::database& db, std::int64_t webinar_id, std::int64_t registration_id);
// The token nonce hashes of these registrations (of any webinar), in the same order; gone ones skipped.
std::vector<std::string> token_hashes_of(store::database& db, const std::vector<std::int64_t>& registration_ids);
void for_each_registration(store::database& db, std::int64_t webinar_id,
                           const std::function<void(const registration_record&)>& visit);

}  // namespace cohort::registration

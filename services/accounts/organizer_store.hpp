// Organizer accounts and their console sessions in SQLite (tables from migration step 5).
// Sessions are looked up by the SHA-256 of the cookie, so a copy of the database holds no
// usable cookie.
#pragma once

#include "store/sqlite.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace cohort::accounts {

struct organizer {
  std::int64_t id = 0;
  std::string email;
  std::int64_t created_at = 0;
};

struct organizer_login {
  organizer who;
  std::string password_hash;
};

struct session_record {
  organizer who;
  std::int64_t expires_at = 0;
};

// Thrown by add_organizer for an email that already has an account.
struct duplicate_organizer : std::runtime_error {
  using std::runtime_error::runtime_error;
};

organizer add_organizer(store::database& db, const std::string& email, const std::string& email_key,
                        const std::string& password_hash, std::int64_t now);
// False when no account has that email.
bool set_password(store::database& db, const std::string& email_key, const std::string& password_hash);
// False when no account has that email; its sessions end with it.
bool remove_organizer(store::database& db, const std::string& email_key);
std::vector<organizer> list_organizers(store::database& db);
std::optional<organizer_login> find_login(store::database& db, const std::string& email_key);

// Stores a new session (and drops expired ones, so the table stays small).
void create_session(store::database& db, const std::string& id_hash, std::int64_t organizer_id, std::int64_t now,
                    std::int64_t expires_at);
// The live session with that hash; nullopt when unknown or expired at `now`.
std::optional<session_record> find_session(store::database& db, const std::string& id_hash, std::int64_t now);
void delete_session(store::database& db, const std::string& id_hash);

}  // namespace cohort::accounts

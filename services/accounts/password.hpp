// Organizer passwords: argon2id through libsodium's crypto_pwhash_str, whose output carries the
// algorithm, its parameters and the salt, so a later change of parameters keeps old hashes valid.
#pragma once

#include <string>
#include <string_view>

namespace cohort::accounts {

inline constexpr std::size_t password_min_chars = 10;
inline constexpr std::size_t password_max_bytes = 1024;

// Throws std::runtime_error when libsodium cannot start or runs out of memory.
std::string hash_password(std::string_view password);
// True when `password` matches `hash` (false for a malformed hash). Takes about as long as
// hash_password, on purpose.
bool verify_password(std::string_view password, const std::string& hash);
// What verify_password costs for an email that has no account, so the two answers take the same time.
void verify_dummy(std::string_view password);

}  // namespace cohort::accounts

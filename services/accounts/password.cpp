#include "accounts/password.hpp"

#include <sodium.h>

#include <stdexcept>

namespace cohort::accounts {
namespace {

void init_sodium() {
  static const bool ok = sodium_init() >= 0;
  if (!ok) throw std::runtime_error("libsodium could not start");
}

// OWASP's floor for argon2id is 19 MiB, 2 passes; libsodium's "interactive" profile (64 MiB,
// 2 passes) is above it and takes ~0.1 s here — logins are rare, guesses should be expensive.
constexpr unsigned long long ops = crypto_pwhash_OPSLIMIT_INTERACTIVE;
constexpr std::size_t mem = crypto_pwhash_MEMLIMIT_INTERACTIVE;

}  // namespace

std::string hash_password(std::string_view password) {
  init_sodium();
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str_alg(out, password.data(), password.size(), ops, mem, crypto_pwhash_ALG_ARGON2ID13) != 0)
    throw std::runtime_error("out of memory while hashing a password");
  return out;
}

bool verify_password(std::string_view password, const std::string& hash) {
  init_sodium();
  if (hash.size() >= crypto_pwhash_STRBYTES) return false;
  return crypto_pwhash_str_verify(hash.c_str(), password.data(), password.size()) == 0;
}

void verify_dummy(std::string_view password) {
  static const std::string dummy = hash_password("cohort-no-such-account");
  (void)verify_password(password, dummy);
}

}  // namespace cohort::accounts

#include "gateway/key_ring.hpp"

#include "gateway/auth.hpp"

#include <sodium.h>

#include <stdexcept>

namespace cohort::http {
namespace {

constexpr char context[crypto_kdf_CONTEXTBYTES + 1] = "cohortky";
enum subkey : std::uint64_t { token_signing = 1, segment_url = 2, unsubscribe = 3, join_link = 4 };

std::string subkey_of(const unsigned char (&master)[crypto_kdf_KEYBYTES], subkey id) {
  std::string out(32, '\0');
  crypto_kdf_derive_from_key(reinterpret_cast<unsigned char*>(out.data()), out.size(), id, context, master);
  return out;
}

}  // namespace

key_ring key_ring::derive(std::string_view master_secret) {
  if (master_secret.empty()) throw std::invalid_argument("the master secret is empty");
  if (sodium_init() < 0) throw std::runtime_error("libsodium could not start");
  // The secret is text of any length (hex from the data dir, or the operator's own): hash it to
  // the KDF's 32-byte master key.
  unsigned char master[crypto_kdf_KEYBYTES];
  crypto_generichash(master, sizeof master, reinterpret_cast<const unsigned char*>(master_secret.data()), master_secret.size(),
                     nullptr, 0);
  key_ring ring;
  ring.token_signing_seed = subkey_of(master, token_signing);
  ring.segment_url_key = subkey_of(master, segment_url);
  ring.unsubscribe_key = subkey_of(master, unsubscribe);
  ring.join_link_key = subkey_of(master, join_link);
  sodium_memzero(master, sizeof master);
  unsigned char pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
  crypto_sign_seed_keypair(pk, sk, reinterpret_cast<const unsigned char*>(ring.token_signing_seed.data()));
  sodium_memzero(sk, sizeof sk);
  ring.token_public_key.assign(reinterpret_cast<const char*>(pk), sizeof pk);
  ring.legacy_token_key = std::string(master_secret);
  ring.legacy_join_link_key = hmac_sha256(master_secret, "cohort email: sealed join links");
  ring.legacy_unsubscribe_key = hmac_sha256(master_secret, "cohort email: unsubscribe links");
  return ring;
}

std::string parse_public_key(std::string_view hex_text) {
  if (hex_text.size() != 2 * crypto_sign_PUBLICKEYBYTES) return {};
  std::string out(crypto_sign_PUBLICKEYBYTES, '\0');
  std::size_t len = 0;
  if (sodium_hex2bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), hex_text.data(), hex_text.size(), nullptr, &len,
                     nullptr) != 0 ||
      len != out.size())
    return {};
  return out;
}

}  // namespace cohort::http

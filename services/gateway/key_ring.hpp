// The primary's keys, one per purpose, derived once at start from the master secret
// (auth.token_secret or data/token-secret) with libsodium's crypto_kdf (BLAKE2b, context
// "cohortky"; master key = BLAKE2b-256 of the secret's text). Each capability is handed only its
// own key: a leaked segment-URL or unsubscribe key unlocks nothing else, and an edge holds only
// the token public key. The same secret always gives the same keys, so a restart changes nothing.
#pragma once

#include <string>
#include <string_view>

namespace cohort::http {

struct key_ring {
  // Throws std::invalid_argument for an empty secret, std::runtime_error if libsodium cannot start.
  static key_ring derive(std::string_view master_secret);

  std::string token_signing_seed;   // 32 bytes: Ed25519 seed of the registrant-token key pair (subkey 1)
  std::string token_public_key;     // 32 bytes: what edges get (auth.token_public_key, hex)
  std::string segment_url_key;      // 32 bytes: HMAC of HLS segment URLs (subkey 2)
  std::string unsubscribe_key;      // 32 bytes: HMAC of unsubscribe links (subkey 3)
  std::string join_link_key;        // 32 bytes: secretbox key sealing join links (subkey 4)
  // Migration from the single shared secret: "c1." tokens (HMAC under the secret itself) still
  // verify on the primary, and join links / unsubscribe links made before still open.
  std::string legacy_token_key;        // the master secret's text: primary only, never to an edge
  std::string legacy_join_link_key;    // HMAC-SHA256(secret, "cohort email: sealed join links")
  std::string legacy_unsubscribe_key;  // HMAC-SHA256(secret, "cohort email: unsubscribe links")
};

// "c2."-token public key as configured on edges: 64 hex digits -> 32 bytes; empty if malformed.
std::string parse_public_key(std::string_view hex_text);

}  // namespace cohort::http

// Bearer tokens. The organizer holds one admin token. A registrant holds a token the primary
// issued at signup: "c2.<payload>.<sig>", payload = registration id, webinar id, a 128-bit
// random nonce and the registrant's name (base64url); sig = Ed25519 over "c2.<payload>" with the
// primary's token-signing key (key_ring). Any node with the public key can verify it without a
// database (edge nodes, which learn of cancellations and bans through the bus) but cannot mint
// one; the primary also keeps SHA-256(nonce), never the token.
// Tokens issued before the key split are "c1.<payload>.<mac>" (HMAC-SHA256 under the master
// secret): the primary still accepts them (same claims, same nonce) and the next mail carries
// the same claims re-issued as c2 (reissue); edges, which never hold the master secret, refuse c1.
#pragma once

#include "gateway/http_types.hpp"
#include "gateway/key_ring.hpp"

#include <array>
#include <optional>
#include <string>
#include <string_view>

namespace cohort::http {

std::string sha256(std::string_view data);
std::string base64url(std::string_view bytes);
std::optional<std::string> base64url_decode(std::string_view text);
bool constant_time_equal(std::string_view a, std::string_view b);
std::string hmac_sha256(std::string_view key, std::string_view data);

// Verifies registrant tokens; holds no key that can mint one. What an edge has.
class token_verifier {
 public:
  // public_key: the 32 raw bytes of the Ed25519 key. legacy_secret: the master secret, to accept
  // "c1." tokens (the primary only); empty = c1 refused.
  explicit token_verifier(std::string public_key, std::string legacy_secret = {});

  static constexpr std::size_t max_name_bytes = 800;  // 200 characters of UTF-8
  static constexpr std::size_t max_token_chars = 1200;
  // The claims of a well-formed, correctly signed token; nullopt otherwise.
  std::optional<identity> verify(std::string_view token) const;

 private:
  std::string public_key_;
  std::string legacy_secret_;
};

// The primary's codec: issues c2 tokens and verifies c2 and (legacy) c1.
class token_codec : public token_verifier {
 public:
  explicit token_codec(const key_ring& keys);
  // The codec of the key ring derived from this master secret (tests, tools).
  explicit token_codec(std::string_view master_secret) : token_codec(key_ring::derive(master_secret)) {}

  struct issued {
    std::string token;       // hand to the registrant once; never store or log it
    std::string nonce_hash;  // SHA-256 of the secret part, to store
  };
  // The nonce is drawn here; registration_id must be final (the row's id). The name rides along
  // so an edge can show it in the chat without a database.
  issued issue(std::int64_t registration_id, std::int64_t webinar_id, std::string_view name = {}) const;
  // A valid c1 token re-signed as c2 with the same claims (so the stored nonce hash still
  // matches); any other text is returned unchanged. Deterministic: the same token gives the same bytes.
  std::string reissue(const std::string& token) const;

 private:
  std::string sign(std::string_view payload) const;
  std::string secret_key_;  // 64 bytes: Ed25519 seed and public key
};

// Admin token first (constant-time), then a registrant token. Empty bearer: anonymous.
// A non-empty bearer that is neither: api_error 401.
identity authenticate(std::string_view bearer, std::string_view admin_token, const token_verifier& tokens);

}  // namespace cohort::http

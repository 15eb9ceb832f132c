// Bearer tokens. The organizer holds one admin token. A registrant holds a token the primary
// issued at signup: "c1.<payload>.<mac>", payload = registration id, webinar id, a 128-bit
// random nonce and the registrant's name; mac = HMAC-SHA256 over it with the server's token
// secret. Any node with the secret can verify it without a database (edge nodes, which learn
// of cancellations and bans through the bus); the primary also keeps
// SHA-256(nonce), never the token, so a leaked secret alone cannot mint a token it accepts.
#pragma once

#include "gateway/http_types.hpp"

#include <array>
#include <optional>
#include <string>
#include <string_view>

namespace cohort::http {

std::string random_bytes(std::size_t n);
std::string sha256(std::string_view data);
std::string base64url(std::string_view bytes);
std::optional<std::string> base64url_decode(std::string_view text);
std::string hex(std::string_view bytes);
bool constant_time_equal(std::string_view a, std::string_view b);
std::string hmac_sha256(std::string_view key, std::string_view data);

class token_codec {
 public:
  explicit token_codec(std::string secret) : secret_(std::move(secret)) {}

  struct issued {
    std::string token;       // hand to the registrant once; never store or log it
    std::string nonce_hash;  // SHA-256 of the secret part, to store
  };
  static constexpr std::size_t max_name_bytes = 800;  // 200 characters of UTF-8
  static constexpr std::size_t max_token_chars = 1200;
  // The nonce is drawn here; registration_id must be final (the row's id). The name rides along
  // so an edge can show it in the chat without a database.
  issued issue(std::int64_t registration_id, std::int64_t webinar_id, std::string_view name = {}) const;
  // The claims of a well-formed, correctly signed token; nullopt otherwise.
  std::optional<identity> verify(std::string_view token) const;

 private:
  std::string mac(std::string_view signed_part) const;
  std::string secret_;
};

// Admin token first (constant-time), then a registrant token. Empty bearer: anonymous.
// A non-empty bearer that is neither: api_error 401.
identity authenticate(std::string_view bearer, std::string_view admin_token, const token_codec& codec);

}  // namespace cohort::http

#include "gateway/auth.hpp"

#include "common/bytes.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <sodium.h>

#include <stdexcept>

namespace cohort::http {
namespace {

constexpr std::string_view prefix = "c2.";
constexpr std::string_view legacy_prefix = "c1.";
constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

void put_u64(std::string& out, std::uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>((v >> shift) & 0xff));
}

std::uint64_t get_u64(std::string_view in) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<unsigned char>(in[static_cast<std::size_t>(i)]);
  return v;
}

// The claims of a payload whose signature was checked.
std::optional<identity> claims(std::string_view payload_b64) {
  const auto payload = base64url_decode(payload_b64);
  if (!payload || payload->size() < 32 || payload->size() > 32 + token_verifier::max_name_bytes) return std::nullopt;
  identity who;
  who.role = identity::kind::registrant;
  who.registration_id = static_cast<std::int64_t>(get_u64(*payload));
  who.webinar_id = static_cast<std::int64_t>(get_u64(std::string_view(*payload).substr(8)));
  who.token_nonce_hash = sha256(std::string_view(*payload).substr(16, 16));
  who.name = payload->substr(32);
  return who;
}

}  // namespace

std::string sha256(std::string_view data) {
  std::string out(32, '\0');
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), reinterpret_cast<unsigned char*>(out.data()), &len, EVP_sha256(), nullptr) != 1)
    throw std::runtime_error("SHA-256 failed");
  return out;
}

std::string base64url(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() * 4 + 2) / 3);
  std::uint32_t buffer = 0;
  int bits = 0;
  for (unsigned char c : bytes) {
    buffer = (buffer << 8) | c;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out.push_back(alphabet[(buffer >> bits) & 0x3f]);
    }
  }
  if (bits > 0) out.push_back(alphabet[(buffer << (6 - bits)) & 0x3f]);
  return out;
}

std::optional<std::string> base64url_decode(std::string_view text) {
  std::string out;
  std::uint32_t buffer = 0;
  int bits = 0;
  for (char c : text) {
    int v;
    if (c >= 'A' && c <= 'Z') v = c - 'A';
    else if (c >= 'a' && c <= 'z') v = c - 'a' + 26;
    else if (c >= '0' && c <= '9') v = c - '0' + 52;
    else if (c == '-') v = 62;
    else if (c == '_') v = 63;
    else return std::nullopt;
    buffer = (buffer << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((buffer >> bits) & 0xff));
    }
  }
  // Only the canonical spelling decodes: no dangling character, no stray bits in the last one.
  if (bits >= 6 || (buffer & ((1u << bits) - 1)) != 0) return std::nullopt;
  return out;
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string hmac_sha256(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (!HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
            data.size(), out, &len))
    throw std::runtime_error("HMAC failed");
  return std::string(reinterpret_cast<char*>(out), len);
}

token_verifier::token_verifier(std::string public_key, std::string legacy_secret)
    : public_key_(std::move(public_key)), legacy_secret_(std::move(legacy_secret)) {
  if (public_key_.size() != crypto_sign_PUBLICKEYBYTES) throw std::invalid_argument("a token public key is 32 bytes");
  if (sodium_init() < 0) throw std::runtime_error("libsodium could not start");
}

std::optional<identity> token_verifier::verify(std::string_view token) const {
  if (token.size() > max_token_chars) return std::nullopt;
  const bool legacy = token.substr(0, legacy_prefix.size()) == legacy_prefix;
  if (token.substr(0, prefix.size()) != prefix && !(legacy && !legacy_secret_.empty())) return std::nullopt;
  const auto dot = token.rfind('.');
  if (dot == std::string_view::npos || dot <= prefix.size()) return std::nullopt;
  const auto signed_part = token.substr(0, dot);
  const auto given = base64url_decode(token.substr(dot + 1));
  if (!given) return std::nullopt;
  if (legacy) {
    if (!constant_time_equal(*given, hmac_sha256(legacy_secret_, signed_part))) return std::nullopt;
  } else if (given->size() != crypto_sign_BYTES ||
             crypto_sign_verify_detached(reinterpret_cast<const unsigned char*>(given->data()),
                                         reinterpret_cast<const unsigned char*>(signed_part.data()), signed_part.size(),
                                         reinterpret_cast<const unsigned char*>(public_key_.data())) != 0) {
    return std::nullopt;
  }
  return claims(signed_part.substr(prefix.size()));
}

token_codec::token_codec(const key_ring& keys) : token_verifier(keys.token_public_key, keys.legacy_token_key) {
  secret_key_.resize(crypto_sign_SECRETKEYBYTES);
  std::string pk(crypto_sign_PUBLICKEYBYTES, '\0');
  crypto_sign_seed_keypair(reinterpret_cast<unsigned char*>(pk.data()), reinterpret_cast<unsigned char*>(secret_key_.data()),
                           reinterpret_cast<const unsigned char*>(keys.token_signing_seed.data()));
}

std::string token_codec::sign(std::string_view payload) const {
  std::string token = std::string(prefix) + base64url(payload);
  std::string sig(crypto_sign_BYTES, '\0');
  crypto_sign_detached(reinterpret_cast<unsigned char*>(sig.data()), nullptr, reinterpret_cast<const unsigned char*>(token.data()),
                       token.size(), reinterpret_cast<const unsigned char*>(secret_key_.data()));
  return token + "." + base64url(sig);
}

token_codec::issued token_codec::issue(std::int64_t registration_id, std::int64_t webinar_id, std::string_view name) const {
  const std::string nonce = common::random_bytes(16);
  std::string payload;
  put_u64(payload, static_cast<std::uint64_t>(registration_id));
  put_u64(payload, static_cast<std::uint64_t>(webinar_id));
  payload += nonce;
  payload += name.substr(0, max_name_bytes);
  return issued{sign(payload), sha256(nonce)};
}

std::string token_codec::reissue(const std::string& token) const {
  if (token.substr(0, legacy_prefix.size()) != legacy_prefix || !verify(token)) return token;
  const auto dot = token.rfind('.');
  return sign(*base64url_decode(std::string_view(token).substr(legacy_prefix.size(), dot - legacy_prefix.size())));
}

identity authenticate(std::string_view bearer, std::string_view admin_token, const token_verifier& tokens) {
  if (bearer.empty()) return {};
  // Hash both sides so the comparison time does not even depend on the admin token's length.
  if (!admin_token.empty() && constant_time_equal(sha256(bearer), sha256(admin_token))) {
    identity who;
    who.role = identity::kind::organizer;
    return who;
  }
  if (auto who = tokens.verify(bearer)) return *who;
  throw api_error(401, "unauthorized", "the bearer token is not valid");
}

}  // namespace cohort::http

#include "gateway/auth.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <stdexcept>

namespace cohort::http {
namespace {

constexpr std::string_view prefix = "c1.";
constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

void put_u64(std::string& out, std::uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>((v >> shift) & 0xff));
}

std::uint64_t get_u64(std::string_view in) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<unsigned char>(in[static_cast<std::size_t>(i)]);
  return v;
}

}  // namespace

std::string random_bytes(std::size_t n) {
  std::string out(n, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1)
    throw std::runtime_error("RAND_bytes failed");
  return out;
}

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

std::string hex(std::string_view bytes) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(digits[c >> 4]);
    out.push_back(digits[c & 0xf]);
  }
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

std::string token_codec::mac(std::string_view signed_part) const { return hmac_sha256(secret_, signed_part); }

token_codec::issued token_codec::issue(std::int64_t registration_id, std::int64_t webinar_id, std::string_view name) const {
  const std::string nonce = random_bytes(16);
  std::string payload;
  put_u64(payload, static_cast<std::uint64_t>(registration_id));
  put_u64(payload, static_cast<std::uint64_t>(webinar_id));
  payload += nonce;
  payload += name.substr(0, max_name_bytes);
  std::string token = std::string(prefix) + base64url(payload);
  token += "." + base64url(mac(token));
  return issued{std::move(token), sha256(nonce)};
}

std::optional<identity> token_codec::verify(std::string_view token) const {
  if (token.size() > max_token_chars || token.substr(0, prefix.size()) != prefix) return std::nullopt;
  const auto dot = token.rfind('.');
  if (dot <= prefix.size()) return std::nullopt;
  const auto signed_part = token.substr(0, dot);
  const auto given_mac = base64url_decode(token.substr(dot + 1));
  if (!given_mac || !constant_time_equal(*given_mac, mac(signed_part))) return std::nullopt;
  const auto payload = base64url_decode(signed_part.substr(prefix.size()));
  if (!payload || payload->size() < 32 || payload->size() > 32 + max_name_bytes) return std::nullopt;
  identity who;
  who.role = identity::kind::registrant;
  who.registration_id = static_cast<std::int64_t>(get_u64(*payload));
  who.webinar_id = static_cast<std::int64_t>(get_u64(std::string_view(*payload).substr(8)));
  who.token_nonce_hash = sha256(std::string_view(*payload).substr(16, 16));
  who.name = payload->substr(32);
  return who;
}

identity authenticate(std::string_view bearer, std::string_view admin_token, const token_codec& codec) {
  if (bearer.empty()) return {};
  // Hash both sides so the comparison time does not even depend on the admin token's length.
  if (!admin_token.empty() && constant_time_equal(sha256(bearer), sha256(admin_token))) {
    identity who;
    who.role = identity::kind::organizer;
    return who;
  }
  if (auto who = codec.verify(bearer)) return *who;
  throw api_error(401, "unauthorized", "the bearer token is not valid");
}

}  // namespace cohort::http

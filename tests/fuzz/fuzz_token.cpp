// Registrant tokens and the other credentials a request carries (gateway/auth, key_ring,
// http_types): the input is one bearer token as a client sends it. The keys are fixed (one master
// secret, derived once). Invariants:
// - verify never throws; a token it accepts is byte for byte the one the codec would issue for
//   its payload: "c2." base64url(payload) "." base64url(Ed25519 signature) (or the c1 HMAC form),
//   canonical encodings only, so a changed token never verifies; its claims are the payload's
//   (ids big-endian, SHA-256 of the nonce, the name);
// - an edge's verifier (public key only) accepts the same c2 tokens with the same claims and no
//   c1 token; reissue turns an accepted c1 into a c2 with the same claims and leaves any other
//   text unchanged;
// - authenticate: empty is anonymous, the admin token is the organizer, an accepted token is
//   that registrant, anything else is api_error 401 (nothing else is thrown);
// - the session cookie's value is found exactly inside a Cookie header; parse_public_key gives
//   32 bytes only for 64 hex digits that spell them.
// fuzz-libs: cohort_gateway
#include "gateway/auth.hpp"
#include "gateway/key_ring.hpp"

#include <sodium.h>

#include <cctype>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {

namespace http = cohort::http;

constexpr std::string_view master_secret = "fuzz-token-master-secret: fixed, so seeds stay valid";
constexpr std::string_view admin_token = "admin-token-for-the-fuzzer-0123456789";

void check(bool ok) {
  if (!ok) std::abort();
}

struct keys {
  http::key_ring ring = http::key_ring::derive(master_secret);
  http::token_codec codec{ring};
  http::token_verifier edge{ring.token_public_key};
  std::string secret_key = [this] {
    std::string pk(crypto_sign_PUBLICKEYBYTES, '\0'), sk(crypto_sign_SECRETKEYBYTES, '\0');
    crypto_sign_seed_keypair(reinterpret_cast<unsigned char*>(pk.data()), reinterpret_cast<unsigned char*>(sk.data()),
                             reinterpret_cast<const unsigned char*>(ring.token_signing_seed.data()));
    return sk;
  }();
};

const keys& fixed() {
  static const keys k;
  return k;
}

std::int64_t be64(std::string_view s) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = v << 8 | static_cast<unsigned char>(s[static_cast<std::size_t>(i)]);
  return static_cast<std::int64_t>(v);
}

bool same_claims(const http::identity& a, const http::identity& b) {
  return a.role == b.role && a.registration_id == b.registration_id && a.webinar_id == b.webinar_id &&
         a.token_nonce_hash == b.token_nonce_hash && a.name == b.name && a.organizer_id == b.organizer_id &&
         a.via_session == b.via_session;
}

// What the codec issues for this payload, as written in auth.hpp (not through auth.cpp).
std::string canonical(std::string_view version, const std::string& payload) {
  const auto signed_part = std::string(version) + http::base64url(payload);
  if (version == "c1.") return signed_part + "." + http::base64url(http::hmac_sha256(master_secret, signed_part));
  std::string sig(crypto_sign_BYTES, '\0');
  crypto_sign_detached(reinterpret_cast<unsigned char*>(sig.data()), nullptr, reinterpret_cast<const unsigned char*>(signed_part.data()),
                       signed_part.size(), reinterpret_cast<const unsigned char*>(fixed().secret_key.data()));
  return signed_part + "." + http::base64url(sig);
}

void check_accepted(const std::string& token, const http::identity& who) {
  const std::string_view version = std::string_view(token).substr(0, 3);
  check(version == "c2." || version == "c1.");
  const auto dot = token.rfind('.');
  const auto payload = http::base64url_decode(std::string_view(token).substr(3, dot - 3));
  check(payload.has_value() && payload->size() >= 32 && payload->size() <= 32 + http::token_verifier::max_name_bytes);
  check(token == canonical(version, *payload));
  check(who.role == http::identity::kind::registrant && who.registration_id == be64(*payload) &&
        who.webinar_id == be64(std::string_view(*payload).substr(8)) &&
        who.token_nonce_hash == http::sha256(std::string_view(*payload).substr(16, 16)) && who.name == payload->substr(32));

  const auto at_edge = fixed().edge.verify(token);
  if (version == "c1.") {
    check(!at_edge);
    const auto c2 = fixed().codec.reissue(token);
    check(c2.compare(0, 3, "c2.") == 0 && c2 == fixed().codec.reissue(token));
    const auto again = fixed().codec.verify(c2);
    const auto again_at_edge = fixed().edge.verify(c2);
    check(again && same_claims(*again, who) && again_at_edge && same_claims(*again_at_edge, who));
  } else {
    check(at_edge && same_claims(*at_edge, who));
    check(fixed().codec.reissue(token) == token);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string token(reinterpret_cast<const char*>(data), size);
  const auto& k = fixed();

  const auto who = k.codec.verify(token);
  if (who) {
    check_accepted(token, *who);
  } else {
    check(!k.edge.verify(token));
    check(k.codec.reissue(token) == token);
  }

  try {
    const auto id = http::authenticate(token, admin_token, k.codec);
    if (token.empty()) check(id.role == http::identity::kind::anonymous);
    else if (token == admin_token) check(id.role == http::identity::kind::organizer && id.organizer_id == 0);
    else check(who && same_claims(id, *who));
  } catch (const http::api_error& e) {
    check(e.status == 401 && !token.empty() && token != admin_token && !who);
  }

  // The console's session cookie among others (the header as a browser sends it).
  http::request req;
  req.cookie = token;
  const auto value = req.cookie_value("cohort_session");
  check(value.empty() || (value.data() >= req.cookie.data() && value.data() + value.size() <= req.cookie.data() + req.cookie.size() &&
                          value.find(';') == std::string_view::npos));
  if (token.find(';') == std::string::npos) {
    req.cookie = "theme=dark; cohort_session=" + token + "; lang=en";
    check(req.cookie_value("cohort_session") == token);
  }

  const auto key = http::parse_public_key(token);
  if (!key.empty()) {
    check(key.size() == 32 && token.size() == 64);
    static constexpr char digits[] = "0123456789abcdef";
    for (std::size_t i = 0; i < 32; ++i) {
      const auto b = static_cast<unsigned char>(key[i]);
      check(std::tolower(static_cast<unsigned char>(token[2 * i])) == digits[b >> 4] &&
            std::tolower(static_cast<unsigned char>(token[2 * i + 1])) == digits[b & 15]);
    }
  }
  return 0;
}

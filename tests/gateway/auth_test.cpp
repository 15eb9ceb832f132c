#include "gateway/auth.hpp"

#include "common/bytes.hpp"

#include <catch2/catch.hpp>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <set>
#include <string>
#include <vector>

namespace {

using namespace cohort::http;
using cohort::common::hex;
using cohort::common::random_bytes;

const std::string secret = "0123456789abcdef0123456789abcdef";
const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

// "c2.<payload>.<sig>" split into its two base64url parts.
struct token_parts {
  std::string payload, mac;
};

token_parts split(const std::string& token) {
  REQUIRE(token.rfind("c2.", 0) == 0);
  const auto dot = token.rfind('.');
  REQUIRE(dot > 3);
  return {token.substr(3, dot - 3), token.substr(dot + 1)};
}

// Signs `payload_bytes` as the server did before the key split ("c1.", HMAC under the master
// secret), so malformed payloads can carry a valid MAC and legacy tokens can be made.
std::string sign(const std::string& key, const std::string& payload_bytes) {
  const std::string signed_part = "c1." + base64url(payload_bytes);
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  REQUIRE(HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
               reinterpret_cast<const unsigned char*>(signed_part.data()), signed_part.size(), out, &len));
  return signed_part + "." + base64url(std::string(reinterpret_cast<char*>(out), len));
}

std::string u64(std::uint64_t v) {
  std::string out;
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>((v >> shift) & 0xff));
  return out;
}

// The character whose 6-bit value differs from c's by `mask`.
char flipped(char c, unsigned mask) { return alphabet[(alphabet.find(c) ^ mask) & 0x3f]; }

}  // namespace

TEST_CASE("base64url encodes the RFC 4648 test vectors without padding", "[gateway]") {
  CHECK(base64url("") == "");
  CHECK(base64url("f") == "Zg");
  CHECK(base64url("fo") == "Zm8");
  CHECK(base64url("foo") == "Zm9v");
  CHECK(base64url("foob") == "Zm9vYg");
  CHECK(base64url("fooba") == "Zm9vYmE");
  CHECK(base64url("foobar") == "Zm9vYmFy");
  // the URL-safe alphabet: - and _ where standard base64 has + and /
  CHECK(base64url(std::string("\xfb\xff\xbf", 3)) == "-_-_");
}

TEST_CASE("base64url round-trips every length and byte value", "[gateway]") {
  for (std::size_t n = 0; n <= 5; ++n) {
    for (unsigned char fill : {0x00, 0x01, 0x7f, 0x80, 0xfe, 0xff}) {
      const std::string bytes(n, static_cast<char>(fill));
      INFO("length " << n << " fill " << int(fill));
      const auto text = base64url(bytes);
      CHECK(text.size() == (n * 4 + 2) / 3);
      CHECK(text.find_first_not_of(alphabet) == std::string::npos);
      CHECK(base64url_decode(text) == bytes);
    }
    const auto random = random_bytes(n);
    CHECK(base64url_decode(base64url(random)) == random);
  }
  std::string all;
  for (int b = 0; b < 256; ++b) all.push_back(static_cast<char>(b));
  CHECK(base64url_decode(base64url(all)) == all);
}

TEST_CASE("base64url_decode refuses characters outside the URL alphabet", "[gateway]") {
  for (const std::string bad : {"Zm9v+", "Zm9v/", "Zm8=", "Zm 9v", "Zm9v\n", "Zm\x80"}) {
    INFO(bad);
    CHECK_FALSE(base64url_decode(bad));
  }
}

TEST_CASE("sha256", "[gateway]") {
  CHECK(hex(sha256("abc")) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(hex(sha256("")) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST_CASE("constant_time_equal compares contents and lengths", "[gateway]") {
  CHECK(constant_time_equal("", ""));
  CHECK(constant_time_equal("secret-token", "secret-token"));
  CHECK_FALSE(constant_time_equal("secret-token", "secret-tokeN"));
  CHECK_FALSE(constant_time_equal("secret-token", "secret-toke"));
  CHECK_FALSE(constant_time_equal("secret", "secret-token"));
  CHECK_FALSE(constant_time_equal("", "x"));
  CHECK(constant_time_equal(std::string_view("a\0b", 3), std::string_view("a\0b", 3)));
  CHECK_FALSE(constant_time_equal(std::string_view("a\0b", 3), std::string_view("a\0c", 3)));
}

TEST_CASE("token_codec round-trips the ids of the token it issued", "[gateway]") {
  const token_codec codec(secret);
  const std::vector<std::pair<std::int64_t, std::int64_t>> ids{{1, 1}, {42, 7}, {(std::int64_t{1} << 40) + 3, 999999}};
  for (const auto& [registration, webinar] : ids) {
    const auto issued = codec.issue(registration, webinar);
    INFO(issued.token);
    CHECK(issued.token.rfind("c2.", 0) == 0);
    CHECK(issued.token.size() <= 200);
    CHECK(issued.token.find_first_not_of(alphabet + ".") == std::string::npos);  // safe in a URL fragment
    const auto who = codec.verify(issued.token);
    REQUIRE(who);
    CHECK(who->role == identity::kind::registrant);
    CHECK(who->registration_id == registration);
    CHECK(who->webinar_id == webinar);
    CHECK(who->token_nonce_hash == issued.nonce_hash);
  }
}

TEST_CASE("token_codec signs the registrant's name into the token for nodes without a database", "[gateway]") {
  const token_codec codec(secret);
  const std::string name = "Zoë O'Brien \xe2\x80\x94 OT";
  const auto issued = codec.issue(8, 3, name);
  const auto who = codec.verify(issued.token);
  REQUIRE(who);
  CHECK(who->name == name);
  CHECK(who->token_nonce_hash == issued.nonce_hash);
  // the longest name a signup accepts (200 four-byte characters) still makes a valid token
  std::string longest;
  for (int i = 0; i < 200; ++i) longest += "\xf0\x9f\x98\x80";
  const auto big = codec.issue(8, 3, longest);
  CHECK(big.token.size() <= token_codec::max_token_chars);
  REQUIRE(codec.verify(big.token));
  CHECK(codec.verify(big.token)->name == longest);
  CHECK(codec.issue(8, 3).token.size() <= 200);  // without a name, as short as before
}

TEST_CASE("token_codec stores only the hash of the token's random part", "[gateway]") {
  const token_codec codec(secret);
  const auto issued = codec.issue(5, 9);
  const auto payload = base64url_decode(split(issued.token).payload);
  REQUIRE(payload);
  REQUIRE(payload->size() == 32);
  CHECK(payload->substr(0, 8) == u64(5));
  CHECK(payload->substr(8, 8) == u64(9));
  const auto nonce = payload->substr(16, 16);
  CHECK(issued.nonce_hash.size() == 32);
  CHECK(issued.nonce_hash == sha256(nonce));
  CHECK(issued.token.find(issued.nonce_hash) == std::string::npos);

  // every token gets a fresh nonce
  std::set<std::string> hashes, tokens;
  for (int i = 0; i < 20; ++i) {
    const auto again = codec.issue(5, 9);
    hashes.insert(again.nonce_hash);
    tokens.insert(again.token);
  }
  CHECK(hashes.size() == 20);
  CHECK(tokens.size() == 20);
}

TEST_CASE("token_codec rejects a token with any character of its payload or MAC changed", "[gateway]") {
  const token_codec codec(secret);
  const auto token = codec.issue(12, 34).token;
  REQUIRE(codec.verify(token));
  // Flip a high bit of each base64url character (a real change to the bytes it carries).
  for (std::size_t i = 3; i < token.size(); ++i) {
    if (token[i] == '.') continue;
    auto tampered = token;
    tampered[i] = flipped(token[i], 0x20);
    INFO("position " << i << ": " << tampered);
    CHECK_FALSE(codec.verify(tampered));
  }
  // Claims swapped to another registration, with the original MAC: rejected.
  const auto parts = split(token);
  auto payload = *base64url_decode(parts.payload);
  payload.replace(0, 8, u64(13));
  CHECK_FALSE(codec.verify("c2." + base64url(payload) + "." + parts.mac));
}

TEST_CASE("token_codec accepts exactly one spelling of a token", "[gateway]") {
  // The last character of the MAC carries unused low bits: only the canonical spelling verifies,
  // so one credential has one string (revocation lists and rate limits can key on it).
  const token_codec codec(secret);
  const auto token = codec.issue(12, 34).token;
  for (unsigned mask : {1u, 2u, 3u}) {
    auto tampered = token;
    tampered.back() = flipped(token.back(), mask);
    INFO(tampered);
    CHECK_FALSE(codec.verify(tampered));
  }
  // the same leniency in the primitive: "A" carries 6 bits, less than a byte
  CHECK_FALSE(base64url_decode("A"));
}

TEST_CASE("token_codec rejects a token signed with another secret", "[gateway]") {
  const token_codec ours(secret);
  const token_codec theirs("another-secret-another-secret-xx");
  const auto token = theirs.issue(1, 1).token;
  CHECK(theirs.verify(token));
  CHECK_FALSE(ours.verify(token));
  CHECK_FALSE(ours.verify(sign("another-secret-another-secret-xx", u64(1) + u64(1) + std::string(16, 'n'))));
}

TEST_CASE("token_codec rejects garbage and malformed tokens", "[gateway]") {
  const token_codec codec(secret);
  const auto good = codec.issue(3, 4).token;
  const auto parts = split(good);
  for (const std::string& bad : {std::string(), std::string("c1."), std::string("c1.."), std::string("c1.abc"), std::string("c1.abc.def"),
                                std::string("Bearer ") + good, "c1" + good.substr(2), "c3" + good.substr(2), good.substr(3), good + ".", good + "=",
                                good + "A", "c2." + parts.payload + "." + parts.mac + "." + parts.mac,
                                "c2." + parts.payload + "." + std::string(250, 'A'), std::string("\xff\xfe"),
                                "c2." + parts.payload + ".", "c2.." + parts.mac, std::string("c2."), std::string("c2..")}) {
    INFO("token \"" << bad << "\"");
    CHECK_FALSE(codec.verify(bad));
  }
  // correctly signed (legacy c1), but the payload is shorter than 8 + 8 + 16 bytes, or its name too long
  const auto valid_shape = sign(secret, u64(3) + u64(4) + std::string(16, 'n'));
  CHECK(codec.verify(valid_shape));
  CHECK_FALSE(codec.verify(sign(secret, u64(3) + u64(4) + std::string(15, 'n'))));
  CHECK(codec.verify(sign(secret, u64(3) + u64(4) + std::string(17, 'n')))->name == "n");
  CHECK_FALSE(codec.verify(sign(secret, u64(3) + u64(4) + std::string(16 + token_codec::max_name_bytes + 1, 'n'))));
  CHECK_FALSE(codec.verify(sign(secret, "")));
}

TEST_CASE("authenticate maps a bearer token to who is asking", "[gateway]") {
  const token_codec codec(secret);
  const std::string admin = "organizer-token-0123456789";

  CHECK(authenticate("", admin, codec).role == identity::kind::anonymous);
  CHECK(authenticate(admin, admin, codec).role == identity::kind::organizer);

  const auto issued = codec.issue(21, 8);
  const auto who = authenticate(issued.token, admin, codec);
  CHECK(who.role == identity::kind::registrant);
  CHECK(who.registration_id == 21);
  CHECK(who.webinar_id == 8);
  CHECK(who.token_nonce_hash == issued.nonce_hash);

  for (const std::string& bad : {std::string("nope"), admin.substr(0, admin.size() - 1), admin + "x", std::string(" ") + admin,
                                issued.token.substr(0, issued.token.size() - 1)}) {
    INFO("bearer \"" << bad << "\"");
    try {
      authenticate(bad, admin, codec);
      FAIL("accepted");
    } catch (const api_error& e) {
      CHECK(e.status == 401);
      CHECK(e.code == "unauthorized");
    }
  }
}

TEST_CASE("authenticate never matches an unset admin token", "[gateway]") {
  const token_codec codec(secret);
  CHECK(authenticate("", "", codec).role == identity::kind::anonymous);
  CHECK_THROWS_AS(authenticate("anything", "", codec), api_error);
  CHECK(authenticate(codec.issue(1, 2).token, "", codec).role == identity::kind::registrant);
}

template <class T>
constexpr bool can_issue = requires(const T& codec) { codec.issue(1, 2); };

TEST_CASE("an edge's verifier holds only the public key: it verifies c2 tokens and cannot issue one", "[gateway]") {
  static_assert(!can_issue<token_verifier>, "a verifier must not be able to mint tokens");
  static_assert(can_issue<token_codec>);
  const token_codec primary(secret);
  const auto ring = key_ring::derive(secret);
  const token_verifier edge(ring.token_public_key);
  const auto issued = primary.issue(7, 3, "Ada");
  const auto who = edge.verify(issued.token);
  REQUIRE(who);
  CHECK(who->registration_id == 7);
  CHECK(who->webinar_id == 3);
  CHECK(who->name == "Ada");
  CHECK(who->token_nonce_hash == issued.nonce_hash);
  // The public key is all it has: the master secret is not in it, and a c1 token made with the
  // master secret (what a node holding the old shared secret could mint) is refused.
  const auto legacy = sign(secret, u64(7) + u64(3) + std::string(16, 'n'));
  CHECK(primary.verify(legacy));
  CHECK_FALSE(edge.verify(legacy));
  // Another key pair's signature is refused.
  CHECK_FALSE(edge.verify(token_codec("another-secret-another-secret-xx").issue(7, 3).token));
  // A flipped bit of the signature is refused.
  auto tampered = issued.token;
  tampered[tampered.size() - 5] = flipped(tampered[tampered.size() - 5], 0x20);
  CHECK_FALSE(edge.verify(tampered));
  CHECK_THROWS(token_verifier(std::string(31, 'k')));
}

TEST_CASE("the key ring derives one key per purpose, the same after a restart", "[gateway]") {
  const auto a = key_ring::derive(secret);
  const auto b = key_ring::derive(secret);
  const std::vector<std::string> keys{a.token_signing_seed, a.token_public_key, a.segment_url_key, a.unsubscribe_key, a.join_link_key,
                                      a.legacy_join_link_key, a.legacy_unsubscribe_key};
  CHECK(std::set<std::string>(keys.begin(), keys.end()).size() == keys.size());
  for (const auto& k : keys) {
    CHECK(k.size() == 32);
    CHECK(k.find(secret) == std::string::npos);
  }
  CHECK(a.token_signing_seed == b.token_signing_seed);
  CHECK(a.token_public_key == b.token_public_key);
  CHECK(a.segment_url_key == b.segment_url_key);
  CHECK(a.unsubscribe_key == b.unsubscribe_key);
  CHECK(a.join_link_key == b.join_link_key);
  CHECK(a.legacy_token_key == secret);
  // What mailer derived from the shared secret before the split: old links still open.
  CHECK(a.legacy_join_link_key == hmac_sha256(secret, "cohort email: sealed join links"));
  CHECK(a.legacy_unsubscribe_key == hmac_sha256(secret, "cohort email: unsubscribe links"));
  const auto other = key_ring::derive("another-secret-another-secret-xx");
  CHECK(other.token_public_key != a.token_public_key);
  CHECK(other.segment_url_key != a.segment_url_key);
  CHECK_THROWS(key_ring::derive(""));
  CHECK(parse_public_key(hex(a.token_public_key)) == a.token_public_key);
  CHECK(parse_public_key(hex(a.token_public_key).substr(2)).empty());
  CHECK(parse_public_key(std::string(64, 'z')).empty());
}

TEST_CASE("a legacy c1 token verifies on the primary and is re-issued as c2 with the same claims", "[gateway]") {
  const token_codec codec(secret);
  const std::string nonce = "0123456789abcdef";
  const auto legacy = sign(secret, u64(11) + u64(5) + nonce + "Bea");
  const auto before = codec.verify(legacy);
  REQUIRE(before);
  CHECK(before->token_nonce_hash == sha256(nonce));
  const auto renewed = codec.reissue(legacy);
  CHECK(renewed.rfind("c2.", 0) == 0);
  CHECK(codec.reissue(legacy) == renewed);  // the same mail composed twice has the same bytes
  const token_verifier edge(key_ring::derive(secret).token_public_key);
  const auto after = edge.verify(renewed);
  REQUIRE(after);
  CHECK(after->registration_id == 11);
  CHECK(after->webinar_id == 5);
  CHECK(after->name == "Bea");
  CHECK(after->token_nonce_hash == before->token_nonce_hash);  // the stored hash still matches
  // c2 and anything that is not a valid c1 token pass through unchanged.
  const auto current = codec.issue(1, 2).token;
  CHECK(codec.reissue(current) == current);
  CHECK(codec.reissue("c1.forged.token") == "c1.forged.token");
  CHECK(codec.reissue("") == "");
}

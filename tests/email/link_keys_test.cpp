// The mailer's keys after the key split (gateway/key_ring.hpp): links in mails sent before it
// keep working — a join link sealed under the legacy key opens, and goes out re-issued as a c2
// token with the same nonce; an unsubscribe link signed under the legacy key still verifies.
#include "email/mailer.hpp"

#include "../store/temp_database_file.hpp"
#include "email/outbox_store.hpp"
#include "gateway/auth.hpp"
#include "registration/registration_store.hpp"
#include "registration/validation.hpp"
#include "registration/webinar_store.hpp"
#include "store/migrations.hpp"

#include <catch2/catch.hpp>

#include <filesystem>

namespace {

namespace fs = std::filesystem;
using namespace cohort::email;
using cohort::store::database;

constexpr std::int64_t t0 = 1768471200;
constexpr std::int64_t day = 86400;
const std::string secret = "link-keys-test-secret-0123456789abcdef";

fs::path shipped_templates() {
  const char* dir = std::getenv("COHORT_SOURCE_DIR");
  const fs::path root = dir ? fs::path(dir) : fs::path(__FILE__).parent_path().parent_path().parent_path();
  return root / "config" / "email";
}

mailer_options base_options() {
  return mailer_options{"https://cohort.example.org", {"Cohort", "webinars@cohort.example.org"}, "cohort.example.org", {}, {day}};
}

// The same claims signed the way tokens were before the split: "c1.", HMAC-SHA256 under the master secret.
std::string as_legacy(const std::string& c2_token) {
  const auto dot = c2_token.rfind('.');
  const auto signed_part = "c1." + c2_token.substr(3, dot - 3);
  return signed_part + "." + cohort::http::base64url(cohort::http::hmac_sha256(secret, signed_part));
}

}  // namespace

TEST_CASE("a join link sealed before the key split opens and goes out as a c2 token with the same nonce", "[email][mailer]") {
  cohort::test::temp_database_file file;
  database db{file.path()};
  cohort::store::migrate(db);
  cohort::registration::webinar_input in;
  in.title = "Key split";
  in.sessions = {cohort::registration::session_slot{0, t0 + 2 * day, 60}};
  const auto webinar = cohort::registration::create_webinar(db, std::move(in), t0);
  const cohort::http::token_codec codec(secret);
  const auto ring = cohort::http::key_ring::derive(secret);

  // Before: one shared secret; the signup sealed a c1 token under the key derived from it.
  auto old_options = base_options();
  old_options.link_secret = secret;
  const mailer before{old_options, template_set::load(shipped_templates())};
  cohort::registration::signup_input who{"Maya", "maya@example.org", *cohort::registration::email_key("maya@example.org"), ""};
  const auto maya = cohort::registration::create_signup(db, webinar, who, codec, t0);
  const auto legacy = as_legacy(maya.token);
  REQUIRE(codec.verify(legacy));
  before.signed_up(db, maya.id, legacy, t0);

  // After: per-purpose keys; the mail composed now carries the renewed token.
  auto new_options = base_options();
  new_options.keys = {ring.join_link_key, ring.unsubscribe_key, ring.legacy_join_link_key, ring.legacy_unsubscribe_key,
                      [&codec](const std::string& t) { return codec.reissue(t); }};
  const mailer after{new_options, template_set::load(shipped_templates())};
  const auto renewed = codec.reissue(legacy);
  REQUIRE(renewed.rfind("c2.", 0) == 0);
  const auto entries = next_due(db, t0 + 30 * day, 10);
  REQUIRE(entries.size() == 1);
  const auto mime = after.compose(db, entries[0], t0).mime;
  CHECK(mime.find(renewed.substr(0, 20)) != std::string::npos);
  CHECK(mime.find(legacy.substr(0, 20)) == std::string::npos);
  const auto claims = cohort::http::token_verifier(ring.token_public_key).verify(renewed);
  REQUIRE(claims);
  CHECK(claims->token_nonce_hash == codec.verify(legacy)->token_nonce_hash);

  // Unsubscribe links: the new key signs, the legacy signature still verifies, a forged one does not.
  const auto old_url = before.unsubscribe_url(maya.id);
  const auto old_sig = old_url.substr(old_url.find("sig=") + 4);
  const auto new_url = after.unsubscribe_url(maya.id);
  const auto new_sig = new_url.substr(new_url.find("sig=") + 4);
  CHECK(old_sig != new_sig);
  CHECK(after.unsubscribe_signature_ok(maya.id, new_sig));
  CHECK(after.unsubscribe_signature_ok(maya.id, old_sig));
  CHECK_FALSE(after.unsubscribe_signature_ok(maya.id + 1, old_sig));
  // A mailer without the legacy keys (a fresh install) accepts only its own.
  auto fresh = new_options;
  fresh.keys.legacy_seal.clear();
  fresh.keys.legacy_unsubscribe.clear();
  const mailer only_new{fresh, template_set::load(shipped_templates())};
  CHECK_FALSE(only_new.unsubscribe_signature_ok(maya.id, old_sig));
}

#include "live_room/revocations.hpp"

#include "../store/temp_database_file.hpp"
#include "gateway/auth.hpp"
#include "registration/registration_store.hpp"
#include "registration/validation.hpp"
#include "registration/webinar_store.hpp"
#include "store/migrations.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <vector>

namespace {

using namespace cohort;

constexpr std::int64_t t0 = 1768471200;

struct fixture {
  test::temp_database_file file;
  store::database db{file.path()};
  http::token_codec tokens{"chat-store-test-secret-0123456789abcdef"};

  fixture() { store::migrate(db); }

  std::int64_t webinar(std::optional<std::int64_t> capacity) {
    registration::webinar_input in;
    in.title = "Revocations";
    in.capacity = capacity;
    in.sessions = {registration::session_slot{0, t0 + 86400, 60}};
    return registration::create_webinar(db, std::move(in), t0);
  }
  registration::signup_outcome signup(std::int64_t webinar, const std::string& email) {
    registration::signup_input in{email, email, *registration::email_key(email), ""};
    return registration::create_signup(db, webinar, in, tokens, t0);
  }
  bool has(const std::string& entry) {
    const auto all = live_room::revocation_entries(db);
    return std::find(all.begin(), all.end(), entry) != all.end();
  }
};

}  // namespace

TEST_CASE("the revocation list the primary re-publishes follows the database", "[chat][store]") {
  fixture f;
  const auto w = f.webinar(1);
  const auto seated = f.signup(w, "a@x.org");
  const auto waiting = f.signup(w, "b@x.org");
  const auto still_waiting = f.signup(w, "c@x.org");
  REQUIRE(waiting.status == "waitlisted");
  CHECK(f.has(live_room::waitlist_entry(waiting.token_nonce_hash)));
  CHECK_FALSE(f.has(live_room::waitlist_entry(seated.token_nonce_hash)));

  // a@ cancels: b@ is promoted. Redis may still hold b@'s w:, so the list must carry its s:.
  std::vector<std::int64_t> promoted;
  registration::cancel_registration(f.db, seated.id, t0 + 60, &promoted);
  REQUIRE(promoted == std::vector<std::int64_t>{waiting.id});
  CHECK(f.has(live_room::token_entry(seated.token_nonce_hash)));
  CHECK(f.has(live_room::seated_entry(waiting.token_nonce_hash)));
  CHECK(f.has(live_room::waitlist_entry(still_waiting.token_nonce_hash)));
  CHECK_FALSE(f.has(live_room::seated_entry(still_waiting.token_nonce_hash)));

  live_room::add_ban(f.db, w, waiting.id, t0 + 120);
  CHECK(f.has(live_room::ban_entry(w, waiting.id)));

  registration::delete_webinar(f.db, w, t0 + 180);
  CHECK(f.has(live_room::deleted_entry(w)));
}

TEST_CASE("the re-published revocation list keeps the unconfirmed out, and seats them once confirmed", "[chat][store]") {
  fixture f;
  const auto w = f.webinar(5);
  registration::signup_input in{"u@x.org", "u@x.org", *registration::email_key("u@x.org"), ""};
  const auto unconfirmed = registration::create_signup(f.db, w, in, f.tokens, t0, t0 + 3600);
  REQUIRE(unconfirmed.status == "registered");
  REQUIRE(unconfirmed.unconfirmed);
  CHECK(f.has(live_room::waitlist_entry(unconfirmed.token_nonce_hash)));
  registration::confirm_registration(f.db, unconfirmed.id, t0 + 60);
  CHECK_FALSE(f.has(live_room::waitlist_entry(unconfirmed.token_nonce_hash)));
  // Redis may still hold the w: from the signup: the list carries its s:.
  CHECK(f.has(live_room::seated_entry(unconfirmed.token_nonce_hash)));
}

#include "accounts/login_limiter.hpp"

#include <catch2/catch.hpp>

using namespace cohort::accounts;
using namespace std::chrono_literals;

TEST_CASE("the limiter refuses a key after the limit of failures until its minute ends", "[accounts]") {
  login_limiter limiter(5);
  const auto t = login_limiter::clock::now();
  for (int i = 0; i < 4; ++i) {
    limiter.failed("email:a@example.org", t + std::chrono::seconds(i));
    CHECK(limiter.retry_after("email:a@example.org", t + std::chrono::seconds(i)) == 0s);
  }
  limiter.failed("email:a@example.org", t + 10s);
  CHECK(limiter.retry_after("email:a@example.org", t + 10s) == 50s);
  CHECK(limiter.retry_after("email:a@example.org", t + 59s) == 1s);
  CHECK(limiter.retry_after("email:a@example.org", t + 60s) == 0s);
  // Other keys are not affected.
  CHECK(limiter.retry_after("email:b@example.org", t + 10s) == 0s);
  // A new window starts from zero.
  limiter.failed("email:a@example.org", t + 61s);
  CHECK(limiter.retry_after("email:a@example.org", t + 61s) == 0s);
}

TEST_CASE("a successful login clears the account's count", "[accounts]") {
  login_limiter limiter(2);
  const auto t = login_limiter::clock::now();
  limiter.failed("email:a@example.org", t);
  limiter.succeeded("email:a@example.org");
  limiter.failed("email:a@example.org", t);
  CHECK(limiter.retry_after("email:a@example.org", t) == 0s);
  limiter.failed("email:a@example.org", t);
  CHECK(limiter.retry_after("email:a@example.org", t) > 0s);
}

TEST_CASE("the limiter's table stays bounded when flooded with keys", "[accounts]") {
  login_limiter limiter(5, 60s, 1000);
  const auto t = login_limiter::clock::now();
  for (int i = 0; i < 10000; ++i) limiter.failed("ip:" + std::to_string(i), t + std::chrono::milliseconds(i));
  CHECK(limiter.size() <= 1000);
}

TEST_CASE("a full limiter sweeps the windows that ended before forgetting live ones", "[accounts]") {
  login_limiter limiter(5, 60s, 100);
  const auto t = login_limiter::clock::now();
  for (int i = 0; i < 100; ++i) limiter.failed("ip:" + std::to_string(i), t);
  CHECK(limiter.size() == 100);
  limiter.failed("ip:late", t + 120s);
  CHECK(limiter.size() == 1);
}

TEST_CASE("reserve counts the attempt up front and refuses at the limit; refund gives one back", "[accounts]") {
  login_limiter limiter(3);
  const auto t = login_limiter::clock::now();
  for (int i = 0; i < 3; ++i) CHECK(limiter.reserve("ip:127.0.0.2", t) == 0s);
  // The fourth is refused before any failure was reported: parallel attempts cannot overrun.
  CHECK(limiter.reserve("ip:127.0.0.2", t + 1s) == 59s);
  CHECK(limiter.retry_after("ip:127.0.0.2", t + 1s) == 59s);
  limiter.refund("ip:127.0.0.2", t + 2s);
  CHECK(limiter.reserve("ip:127.0.0.2", t + 2s) == 0s);
  CHECK(limiter.reserve("ip:127.0.0.2", t + 2s) > 0s);
  // A new window starts from zero; a refund never goes below zero.
  limiter.refund("ip:127.0.0.2", t + 61s);
  CHECK(limiter.reserve("ip:127.0.0.2", t + 61s) == 0s);
  limiter.refund("ip:127.0.0.2", t + 61s);
  limiter.refund("ip:127.0.0.2", t + 61s);
  for (int i = 0; i < 3; ++i) CHECK(limiter.reserve("ip:127.0.0.2", t + 62s) == 0s);
  CHECK(limiter.reserve("ip:127.0.0.2", t + 62s) > 0s);
}

TEST_CASE("known_logins remembers an account's address for a while, per account", "[accounts]") {
  known_logins known(std::chrono::hours(1), 3);
  const auto t = known_logins::clock::now();
  CHECK_FALSE(known.contains("ana@example.org", "127.0.0.3", t));
  known.remember("ana@example.org", "127.0.0.3", t);
  CHECK(known.contains("ana@example.org", "127.0.0.3", t + 10s));
  CHECK_FALSE(known.contains("ana@example.org", "127.0.0.2", t + 10s));
  CHECK_FALSE(known.contains("ben@example.org", "127.0.0.3", t + 10s));
  CHECK_FALSE(known.contains("ana@example.org", "127.0.0.3", t + std::chrono::hours(1)));
  // Bounded: a full table forgets rather than grows.
  for (int i = 0; i < 10; ++i) known.remember("x" + std::to_string(i) + "@example.org", "127.0.0.9", t + std::chrono::hours(2));
  known.remember("ana@example.org", "127.0.0.3", t + std::chrono::hours(2));
  CHECK(known.contains("ana@example.org", "127.0.0.3", t + std::chrono::hours(2)));
}

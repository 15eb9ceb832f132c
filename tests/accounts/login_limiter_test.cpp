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

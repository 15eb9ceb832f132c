#include "accounts/known_logins.hpp"

#include <catch2/catch.hpp>

using namespace cohort::accounts;
using namespace std::chrono_literals;

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

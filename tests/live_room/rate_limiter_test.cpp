#include "live_room/channels/chat/rate_limiter.hpp"

#include <catch2/catch.hpp>

using cohort::live_room::rate_limiter;
using namespace std::chrono_literals;

TEST_CASE("three messages in two seconds pass, the fourth blocks for ten seconds", "[chat]") {
  rate_limiter limiter;
  const auto t0 = rate_limiter::clock::time_point{} + 1h;
  CHECK(limiter.allow(t0));
  CHECK(limiter.allow(t0 + 100ms));
  CHECK(limiter.allow(t0 + 200ms));
  CHECK_FALSE(limiter.allow(t0 + 300ms));
  CHECK(limiter.blocked_until() == t0 + 300ms + 10s);
  // Every attempt while blocked is refused and does not extend the block.
  CHECK_FALSE(limiter.allow(t0 + 5s));
  CHECK(limiter.blocked_until() == t0 + 300ms + 10s);
  CHECK(limiter.allow(t0 + 300ms + 10s));
}

TEST_CASE("a steady pace under the limit is never blocked", "[chat]") {
  rate_limiter limiter;
  auto t = rate_limiter::clock::time_point{} + 1h;
  for (int i = 0; i < 100; ++i, t += 700ms) REQUIRE(limiter.allow(t));
}

TEST_CASE("the window slides: old messages stop counting after two seconds", "[chat]") {
  rate_limiter limiter;
  const auto t0 = rate_limiter::clock::time_point{} + 1h;
  CHECK(limiter.allow(t0));
  CHECK(limiter.allow(t0 + 1s));
  CHECK(limiter.allow(t0 + 1500ms));
  CHECK(limiter.allow(t0 + 2s));       // the first one left the window
  CHECK_FALSE(limiter.allow(t0 + 2100ms));
}

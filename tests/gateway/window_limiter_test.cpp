#include "gateway/window_limiter.hpp"

#include <catch2/catch.hpp>

#include <string>

using cohort::http::window_limiter;
using namespace std::chrono_literals;

TEST_CASE("the window limiter lets `limit` attempts a minute through, then answers how long to wait", "[gateway]") {
  window_limiter limiter(3);
  const auto t = window_limiter::clock::now();
  CHECK(limiter.take("ip:192.0.2.1", t) == 0s);
  CHECK(limiter.take("ip:192.0.2.1", t + 1s) == 0s);
  CHECK(limiter.take("ip:192.0.2.1", t + 2s) == 0s);
  CHECK(limiter.take("ip:192.0.2.1", t + 10s) == 50s);
  CHECK(limiter.take("ip:192.0.2.1", t + 59s + 500ms) == 1s);
  // Another key has its own window.
  CHECK(limiter.take("ip:192.0.2.2", t + 10s) == 0s);
  // The window ended: a new one starts, and refused attempts were not counted into it.
  CHECK(limiter.take("ip:192.0.2.1", t + 60s) == 0s);
  CHECK(limiter.take("ip:192.0.2.1", t + 61s) == 0s);
  CHECK(limiter.take("ip:192.0.2.1", t + 62s) == 0s);
  CHECK(limiter.take("ip:192.0.2.1", t + 63s) == 57s);
}

TEST_CASE("refund gives one attempt back within its window, never below zero", "[gateway]") {
  window_limiter limiter(3);
  const auto t = window_limiter::clock::now();
  for (int i = 0; i < 3; ++i) CHECK(limiter.take("ip:127.0.0.2", t) == 0s);
  // The fourth is refused before any outcome was reported: parallel attempts cannot overrun.
  CHECK(limiter.take("ip:127.0.0.2", t + 1s) == 59s);
  limiter.refund("ip:127.0.0.2", t + 2s);
  CHECK(limiter.take("ip:127.0.0.2", t + 2s) == 0s);
  CHECK(limiter.take("ip:127.0.0.2", t + 2s) > 0s);
  // A new window starts from zero; a refund never goes below zero.
  limiter.refund("ip:127.0.0.2", t + 61s);
  CHECK(limiter.take("ip:127.0.0.2", t + 61s) == 0s);
  limiter.refund("ip:127.0.0.2", t + 61s);
  limiter.refund("ip:127.0.0.2", t + 61s);
  for (int i = 0; i < 3; ++i) CHECK(limiter.take("ip:127.0.0.2", t + 62s) == 0s);
  CHECK(limiter.take("ip:127.0.0.2", t + 62s) > 0s);
}

TEST_CASE("a limit of 0 lets everything through and stores nothing", "[gateway]") {
  window_limiter limiter(0);
  const auto t = window_limiter::clock::now();
  for (int i = 0; i < 1000; ++i) CHECK(limiter.take("ip:192.0.2." + std::to_string(i % 7), t) == 0s);
  CHECK(limiter.size() == 0);
}

TEST_CASE("the window limiter's table stays bounded under a spray of keys", "[gateway]") {
  window_limiter limiter(1, 60s, 100);
  const auto t = window_limiter::clock::now();
  for (int i = 0; i < 10000; ++i) limiter.take("ip:10.0." + std::to_string(i / 256) + "." + std::to_string(i % 256), t + std::chrono::milliseconds(i));
  CHECK(limiter.size() <= 100);
  // Ended windows go first: after a minute, a full table makes room by sweeping them.
  window_limiter swept(1, 60s, 10);
  for (int i = 0; i < 10; ++i) swept.take("k" + std::to_string(i), t);
  swept.take("late", t + 61s);
  CHECK(swept.size() == 1);
  CHECK(swept.take("late", t + 62s) == 59s);
}

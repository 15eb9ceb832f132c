#include "email/retry.hpp"

#include <curl/curl.h>

#include <catch2/catch.hpp>

#include <vector>

namespace {

using namespace cohort::email;

retry_policy without_jitter() {
  retry_policy p;
  p.jitter = 0;
  return p;
}

}  // namespace

TEST_CASE("backoff: 30 s doubling, capped at one hour", "[email][retry]") {
  const auto p = without_jitter();
  const std::vector<std::int64_t> expected{30, 60, 120, 240, 480, 960, 1920, 3600, 3600, 3600};
  for (std::size_t i = 0; i < expected.size(); ++i) {
    INFO("after " << i + 1 << " failures");
    CHECK(backoff_delay(p, static_cast<int>(i + 1)) == expected[i]);
  }
  CHECK(backoff_delay(p, 1000) == 3600);  // no overflow far out
}

TEST_CASE("jitter is deterministic per seed, within +10 %, and differs between seeds", "[email][retry]") {
  const retry_policy p;
  bool some_differ = false;
  for (int attempt = 1; attempt <= 12; ++attempt) {
    const auto plain = backoff_delay(without_jitter(), attempt);
    for (std::uint64_t seed : {1u, 2u, 42u, 1000u}) {
      const auto d = backoff_delay(p, attempt, seed);
      CHECK(d == backoff_delay(p, attempt, seed));
      CHECK(d >= plain);
      CHECK(d < plain + plain / 10 + 1);
    }
    some_differ = some_differ || backoff_delay(p, attempt, 1) != backoff_delay(p, attempt, 2);
  }
  CHECK(some_differ);
}

TEST_CASE("next_attempt_at gives up after 48 h from queueing, or after max attempts", "[email][retry]") {
  const auto p = without_jitter();
  const std::int64_t queued = 1'000'000;
  CHECK(next_attempt_at(p, 1, queued, queued) == queued + 30);
  CHECK(next_attempt_at(p, 8, queued, queued + 7200) == queued + 7200 + 3600);
  // The last hourly retry that still fits in 48 h, and the first one that does not.
  CHECK(next_attempt_at(p, 20, queued, queued + 47 * 3600) == queued + 48 * 3600);
  CHECK(next_attempt_at(p, 20, queued, queued + 47 * 3600 + 1) == std::nullopt);
  CHECK(next_attempt_at(p, p.max_attempts, queued, queued + 60) == std::nullopt);

  // Failing every time: how many attempts the default schedule makes before giving up.
  std::int64_t now = queued;
  int attempts = 0;
  while (true) {
    ++attempts;  // an attempt at `now` fails
    const auto next = next_attempt_at(p, attempts, queued, now);
    if (!next) break;
    now = *next;
  }
  CHECK(attempts > 40);
  CHECK(attempts < p.max_attempts);
  CHECK(now <= queued + 48 * 3600);
  CHECK(now > queued + 47 * 3600);
}

TEST_CASE("classify: accepted is sent, 5xx permanent, 4xx, network, TLS and auth retry", "[email][retry]") {
  CHECK(classify(CURLE_OK, 250) == send_outcome::sent);
  CHECK(classify(CURLE_OK, 0) == send_outcome::sent);
  // Refused by the server: curl reports MAIL/RCPT refusals as send errors, a refused DATA as a
  // weird reply; the SMTP code decides.
  CHECK(classify(CURLE_SEND_ERROR, 550) == send_outcome::permanent);
  CHECK(classify(CURLE_SEND_ERROR, 553) == send_outcome::permanent);
  CHECK(classify(CURLE_WEIRD_SERVER_REPLY, 554) == send_outcome::permanent);
  CHECK(classify(CURLE_SEND_ERROR, 450) == send_outcome::retry);
  CHECK(classify(CURLE_SEND_ERROR, 451) == send_outcome::retry);
  CHECK(classify(CURLE_WEIRD_SERVER_REPLY, 421) == send_outcome::retry);
  // The relay refused us, not the message (its greeting, our MAIL FROM): a set-up problem too.
  CHECK(classify(CURLE_WEIRD_SERVER_REPLY, 554, smtp_stage::relay) == send_outcome::retry);
  CHECK(classify(CURLE_SEND_ERROR, 550, smtp_stage::relay) == send_outcome::retry);
  CHECK(classify(CURLE_SEND_ERROR, 550, smtp_stage::message) == send_outcome::permanent);
  // Authentication: a configuration problem, fixed by the organizer, not the message's fault.
  CHECK(classify(CURLE_LOGIN_DENIED, 535) == send_outcome::retry);
  CHECK(classify(CURLE_LOGIN_DENIED, 0) == send_outcome::retry);
  CHECK(classify(CURLE_SEND_ERROR, 530) == send_outcome::retry);
  // No reply at all: the network.
  CHECK(classify(CURLE_COULDNT_CONNECT, 0) == send_outcome::retry);
  CHECK(classify(CURLE_COULDNT_RESOLVE_HOST, 0) == send_outcome::retry);
  CHECK(classify(CURLE_OPERATION_TIMEDOUT, 0) == send_outcome::retry);
  CHECK(classify(CURLE_SSL_CONNECT_ERROR, 0) == send_outcome::retry);
  CHECK(classify(CURLE_USE_SSL_FAILED, 0) == send_outcome::retry);
  CHECK(classify(CURLE_PEER_FAILED_VERIFICATION, 0) == send_outcome::retry);
  CHECK(classify(CURLE_GOT_NOTHING, 0) == send_outcome::retry);
}

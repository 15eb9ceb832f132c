#include "email/retry.hpp"

#include <curl/curl.h>

#include <algorithm>

namespace cohort::email {
namespace {

// splitmix64: a well-mixed 64-bit value from a seed and the attempt number.
std::uint64_t mix(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

// Authentication failures are the server's verdict on our configuration, not on the message.
bool is_auth_reply(long code) { return code == 530 || code == 534 || code == 535 || code == 538; }

}  // namespace

std::int64_t backoff_delay(const retry_policy& p, int failed_attempts, std::uint64_t seed) {
  std::int64_t delay = p.first_delay_seconds;
  for (int i = 1; i < failed_attempts && delay < p.max_delay_seconds; ++i) delay *= 2;
  delay = std::min(delay, p.max_delay_seconds);
  if (p.jitter > 0) {
    const double fraction = static_cast<double>(mix(seed ^ static_cast<std::uint64_t>(failed_attempts)) >> 11) /
                            static_cast<double>(1ull << 53);  // [0, 1)
    delay += static_cast<std::int64_t>(static_cast<double>(delay) * p.jitter * fraction);
  }
  return delay;
}

std::optional<std::int64_t> next_attempt_at(const retry_policy& p, int failed_attempts, std::int64_t queued_at,
                                            std::int64_t now, std::uint64_t seed) {
  if (failed_attempts >= p.max_attempts) return std::nullopt;
  const auto at = now + backoff_delay(p, failed_attempts, seed);
  if (at > queued_at + p.give_up_after_seconds) return std::nullopt;
  return at;
}

std::string_view to_string(send_outcome outcome) {
  switch (outcome) {
    case send_outcome::sent: return "sent";
    case send_outcome::permanent: return "permanent";
    default: return "retry";
  }
}

send_outcome classify(int curl_code, long smtp_code, smtp_stage stage) {
  if (curl_code == CURLE_OK) return send_outcome::sent;
  if (stage == smtp_stage::relay) return send_outcome::retry;
  // curl reports a refused MAIL FROM / RCPT TO / DATA as a send or receive error; the reply
  // code says whose problem it is.
  if (smtp_code >= 500 && smtp_code <= 599 && !is_auth_reply(smtp_code)) return send_outcome::permanent;
  return send_outcome::retry;
}

}  // namespace cohort::email

// When to try a message again, and what an SMTP attempt's outcome means. Deterministic (the
// jitter comes from a seed the caller passes, e.g. the outbox row id), so it is unit-testable.
//
// The schedule: 30 s after the first failure, doubling (1, 2, 4, ... min) up to one hour, then
// hourly; a message still unsent 48 h after it was queued, or after 60 attempts, is given up as
// failed. 48 h outlasts a mail provider's weekend outage while a reminder is still worth
// something; an organizer sees failed rows in the outbox view. Each delay gets up to +10 %
// jitter so messages that failed together (a relay outage) do not retry in lockstep.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace cohort::email {

struct retry_policy {
  std::int64_t first_delay_seconds = 30;
  std::int64_t max_delay_seconds = 3600;
  std::int64_t give_up_after_seconds = 48 * 3600;  // counted from when the message was queued
  int max_attempts = 60;
  double jitter = 0.1;  // each delay is stretched by a fraction in [0, jitter) taken from the seed
};

// The delay before the next attempt after `failed_attempts` (>= 1) failures in a row.
std::int64_t backoff_delay(const retry_policy& policy, int failed_attempts, std::uint64_t seed = 0);

// When to try again after `failed_attempts` failures, or nullopt when the policy gives up.
std::optional<std::int64_t> next_attempt_at(const retry_policy& policy, int failed_attempts, std::int64_t queued_at,
                                            std::int64_t now, std::uint64_t seed = 0);

// sent: the server took the message. retry: a 4xx reply, a network, TLS or timeout error, or an
// authentication failure (a configuration problem an organizer can fix, not the message's
// fault). permanent: any other 5xx reply (unknown mailbox, rejected content): retrying is futile.
enum class send_outcome { sent, retry, permanent };

std::string_view to_string(send_outcome outcome);

// What one delivery attempt produced (SMTP or an .eml file).
struct send_result {
  send_outcome outcome = send_outcome::retry;
  long smtp_code = 0;  // the last SMTP reply code, 0 when none was received
  std::string error;   // empty when sent
};

// Where the SMTP conversation failed: before the message was named (the greeting, MAIL FROM —
// the relay refuses us: every message would fail alike, so a 5xx there is retried while the
// organizer fixes the set-up) or at/after RCPT TO (this message is refused: a 5xx is final).
enum class smtp_stage { relay, message };

// curl_code: the CURLcode of curl_easy_perform (0 = CURLE_OK); smtp_code: CURLINFO_RESPONSE_CODE.
send_outcome classify(int curl_code, long smtp_code, smtp_stage stage = smtp_stage::message);

}  // namespace cohort::email

// Erasure of one registration's personal data, inside one writer transaction. The row stays
// (counts and aggregates stay): name "Erased registrant", email/email_key unique non-addresses,
// profession and time zone cleared, erased_at set, and an active registration cancelled through
// registration's cancel path (the seat frees, the waitlist moves up). Answers, the sealed join
// link and email prefs are deleted; chat messages and Q&A questions keep their rows with name and
// text "[erased]"; queued mail to them fails ('erased') and every outbox row of theirs loses its
// address, args and body; CE attempts keep score/passed but lose their answers. CE certificates
// are left alone: they are the provider's records until ce.records_years (see retention_sweep).
#pragma once

#include "registration/registration_events.hpp"
#include "store/sqlite.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace cohort::privacy {

inline constexpr const char* erased_name = "Erased registrant";
inline constexpr const char* erased_text = "[erased]";

struct erasure {
  std::int64_t webinar_id = 0;
  std::int64_t registration_id = 0;
  std::int64_t erased_at = 0;
  bool already = false;        // it had been erased before: nothing changed
  bool was_active = false;     // it was cancelled now: its token must be revoked
  std::string token_nonce_hash;
  std::vector<std::string> seated;  // nonce hashes of the waitlisted moved up into its seat
};

enum class reason { registrant, organizer, retention };
const char* reason_name(reason r);

// The registration (in webinar_id, or any when 0) erased; idempotent: a second call changes
// nothing and answers the first erasure's time. Throws common::not_found. `mail` (may be null)
// queues the promoted registrants' mail. log_row: one row in `erasures` for this registration
// (the retention sweep logs one row per series instead).
erasure erase_registration(store::database& db, std::int64_t webinar_id, std::int64_t registration_id, reason why,
                           std::int64_t now, const registration::mail_hooks* mail, bool log_row = true);

}  // namespace cohort::privacy

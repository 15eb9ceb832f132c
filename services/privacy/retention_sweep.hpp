// The daily sweep's database work, in bounded batches (each batch is one writer job):
// - privacy.retention_days: every registration of a series whose last session ended more than
//   that long ago is erased (privacy_erasure, reason 'retention'), with one `erasures` row per
//   series and sweep that counts them;
// - ce.records_years: certificates issued longer ago than that lose name and license number
//   (personal_erased_at set; one `erasures` row per series, reason 'records_policy').
// Idempotent: what was erased is not touched again, so a restart that sweeps changes nothing.
#pragma once

#include "privacy/privacy_erasure.hpp"

#include <cstdint>
#include <optional>
#include <vector>

namespace cohort::privacy {

struct retention_batch {
  std::int64_t webinar_id = 0;        // 0: nothing left to erase
  std::int64_t erasure_row = 0;       // the series' `erasures` row of this sweep
  int erased = 0;
  std::vector<erasure> erasures;      // what the node must tell (revoked tokens, seats)
};

// The series whose last session ended before now - retention_days and that still has a
// registration not erased, lowest id first; 0 when none. retention_days 0: never.
std::int64_t next_expired_series(store::database& db, std::int64_t now, int retention_days);

// Erases up to `limit` registrations of that series. `erasure_row` (0: none yet) is this
// sweep's row for the series, whose count grows; a new one is inserted otherwise.
retention_batch erase_expired_batch(store::database& db, std::int64_t webinar_id, std::int64_t erasure_row, std::int64_t now,
                                    int limit);

struct records_batch {
  int cleared = 0;                    // certificates whose personal fields went in this batch
};
// Up to `limit` certificates issued before now - records_years.
records_batch clear_expired_certificates(store::database& db, std::int64_t now, int records_years, int limit);

}  // namespace cohort::privacy

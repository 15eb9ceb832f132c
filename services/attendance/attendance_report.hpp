// The organizer's proof of attendance for one session: per registrant the first and last minute
// seen in the live room or fetching the live playlist, the minutes watched and whether that
// counts as attended (the same rule attended/missed drops use), plus viewers per minute.
// Built from the `attendance` minute buckets the primary records (see drops::record_attendance).
#pragma once

#include "common/errors.hpp"
#include "store/sqlite.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace cohort::attendance {

struct registrant_row {
  std::int64_t registration_id = 0;
  std::string name;
  std::string email;
  std::string status;
  std::optional<std::int64_t> joined_at;  // unix seconds of the first minute seen in the session
  std::optional<std::int64_t> left_at;    // end of the last minute seen
  std::int64_t minutes = 0;
  bool attended = false;
  std::int64_t polls_answered = 0;  // of the session's polls that were opened (report::polls)
};

struct report {
  std::int64_t webinar_id = 0;
  int session_number = 0;
  std::int64_t starts_at = 0;
  std::int64_t ends_at = 0;
  int min_minutes = 0;
  std::int64_t polls = 0;                   // the session's polls that were opened
  std::vector<registrant_row> registrants;  // everyone registered or waitlisted, and anyone seen
  std::vector<std::int64_t> viewers;        // per minute from starts_at: registrants present
};

// Throws common::not_found for an unknown webinar or session. session_number 0:
// the latest session that has started at `now` (else the first).
report build_report(store::database& db, std::int64_t webinar_id, int session_number, int min_minutes, std::int64_t now);
std::string report_csv(const report& r);

}  // namespace cohort::attendance

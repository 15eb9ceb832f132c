// The privacy notice on a series' signup form: the organizer's text (webinars.privacy_notice),
// or a default generated from the configuration that says what is kept, for how long and who
// sees it.
#pragma once

#include "store/sqlite.hpp"

#include <cstddef>
#include <cstdint>
#include <string>

namespace cohort::privacy {

inline constexpr std::size_t notice_max_chars = 4000;

// The default notice for privacy.retention_days (0: kept until the organizer deletes the
// series) and ce.records_years.
std::string default_notice(int retention_days, int records_years);

struct notice {
  std::string text;    // what the signup form shows
  bool custom = false; // the organizer's own text
};
// Throws common::not_found for an unknown series.
notice read_notice(store::database& db, std::int64_t webinar_id, int retention_days, int records_years);
// '' = back to the default. Throws common::invalid("text") past notice_max_chars or for control
// characters other than newlines and tabs; common::not_found.
void write_notice(store::database& db, std::int64_t webinar_id, const std::string& text);

}  // namespace cohort::privacy

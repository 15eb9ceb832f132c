// The secret stream key of each webinar series: what the organizer puts into OBS, and what the
// RTMP ingest checks before any media reaches ffmpeg.
#pragma once

#include "store/sqlite.hpp"

#include <cstdint>
#include <optional>
#include <string>

namespace cohort::streaming {

// Draws a new key for the series (the old one stops working). Throws not_found_error.
std::string rotate_stream_key(store::database& db, std::int64_t webinar_id);
std::optional<std::string> stream_key_of(store::database& db, std::int64_t webinar_id);
// The series a key belongs to. The comparison is done by SQLite on the unique index; keys are
// 128-bit random, so guessing is the attack, not timing.
std::optional<std::int64_t> webinar_by_stream_key(store::database& db, std::string_view key);

}  // namespace cohort::streaming

// The secret stream key of each webinar series: what the organizer puts into OBS, and what the
// RTMP ingest checks before any media reaches ffmpeg.
#pragma once

#include "store/sqlite.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace cohort::streaming {

// Draws a new key for the series (the old one stops working). Throws common::not_found.
std::string rotate_stream_key(store::database& db, std::int64_t webinar_id);
std::optional<std::string> stream_key_of(store::database& db, std::int64_t webinar_id);
// The series a key belongs to. The comparison is done by SQLite on the unique index; keys are
// 128-bit random, so guessing is the attack, not timing.
std::optional<std::int64_t> webinar_by_stream_key(store::database& db, std::string_view key);
// `line` with every stream key in it (the shape rotate_stream_key draws: "live_" and letters or
// digits) replaced by "live_<redacted>". For what ffmpeg prints (it names the stream it was
// sent, "Unexpected stream live_..."), before it reaches the log.
std::string redact_stream_keys(std::string_view line);

}  // namespace cohort::streaming

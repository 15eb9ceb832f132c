// The recordings table, and nothing else: every SQL statement about recordings is here. A
// recording is a folder recordings/<webinar>/<dir>/ (see recorder.hpp) with one row: open
// (ended_at NULL) while its publish is live, closed with its duration and segment count when the
// publish ends, or at the next start-up when a crash left it open. Functions take the
// connection they run on (the writer's for changes, a reader's for queries) and throw the typed
// errors below, which the APIs answer; nothing here knows HTTP.
#pragma once

#include "store/sqlite.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace cohort::streaming {

// What the store refuses. The replay API answers recording_not_found with 404 and
// recording_still_live with 409.
struct recording_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};
struct recording_not_found : recording_error {
  recording_not_found() : recording_error("no such recording") {}
};
struct recording_still_live : recording_error {
  recording_still_live() : recording_error("this recording is still live") {}
};

struct recording {
  std::int64_t id = 0;
  std::optional<int> session;  // nullopt: ad hoc (outside every session's window)
  std::int64_t started_at = 0;
  std::optional<std::int64_t> ended_at;  // nullopt while live
  std::int64_t duration_ms = 0;
  std::int64_t segments = 0;
  std::string dir;  // the folder under recordings/<webinar>/
};

// How a recording ends: when, and what its VOD playlist holds.
struct recording_totals {
  std::int64_t ended_at = 0;
  std::int64_t duration_ms = 0;
  std::int64_t segments = 0;
};

// A publish begins: its recording's row is made, or (a session's publishes share one folder) an
// ended one of the same folder is open again.
void open_recording(store::database& db, std::int64_t webinar_id, std::optional<int> session, std::int64_t started_at,
                    const std::string& dir);
// The publish ended: the webinar's recording in `dir` is closed with `totals`.
void close_recording(store::database& db, std::int64_t webinar_id, const std::string& dir, const recording_totals& totals);

// Recordings not closed. At start-up, before any publish, these are the ones a crash left open.
struct unclosed_recording {
  std::int64_t id = 0;
  std::int64_t webinar_id = 0;
  std::int64_t started_at = 0;
  std::string dir;
};
std::vector<unclosed_recording> unclosed_recordings(store::database& db);
void close_recording_by_id(store::database& db, std::int64_t recording_id, const recording_totals& totals);

// For every webinar that has a recording, its latest one's start and session: what the room's
// stream status shows once nothing is live.
struct stream_start {
  std::int64_t started_at = 0;
  std::optional<int> session;
};
std::map<std::int64_t, stream_start> latest_stream_starts(store::database& db);

// The webinar's recordings, oldest first.
std::vector<recording> recordings_of(store::database& db, std::int64_t webinar_id);
// The folder of one of the webinar's recordings, which must have ended. Throws
// recording_not_found (none of that id in that webinar), recording_still_live.
std::string ended_recording_dir(store::database& db, std::int64_t webinar_id, std::int64_t recording_id);
// Removes the row (the caller removes the folder once this committed).
void delete_recording(store::database& db, std::int64_t recording_id);

}  // namespace cohort::streaming

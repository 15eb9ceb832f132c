#include "streaming/recording_store.hpp"

namespace cohort::streaming {

namespace {

std::optional<int> session_column(store::statement& st, int column) {
  if (st.is_null(column)) return std::nullopt;
  return static_cast<int>(st.int64(column));
}

}  // namespace

void open_recording(store::database& db, std::int64_t webinar_id, std::optional<int> session, std::int64_t started_at,
                    const std::string& dir) {
  // A session's recording resumed by a later publish keeps its first start.
  auto st = db.prepare(
      "INSERT INTO recordings (webinar_id, session_number, started_at, dir) VALUES (?, ?, ?, ?)"
      " ON CONFLICT (webinar_id, dir) DO UPDATE SET ended_at = NULL");
  st.bind(1, webinar_id).bind(2, session ? std::optional<std::int64_t>(*session) : std::nullopt).bind(3, started_at).bind(4, dir).run();
}

void close_recording(store::database& db, std::int64_t webinar_id, const std::string& dir, const recording_totals& totals) {
  db.prepare("UPDATE recordings SET ended_at = ?, duration_ms = ?, segments = ? WHERE webinar_id = ? AND dir = ?")
      .bind(1, totals.ended_at).bind(2, totals.duration_ms).bind(3, totals.segments).bind(4, webinar_id).bind(5, dir).run();
}

std::vector<unclosed_recording> unclosed_recordings(store::database& db) {
  std::vector<unclosed_recording> out;
  auto st = db.prepare("SELECT id, webinar_id, started_at, dir FROM recordings WHERE ended_at IS NULL");
  while (st.step()) out.push_back({st.int64(0), st.int64(1), st.int64(2), st.text(3)});
  return out;
}

void close_recording_by_id(store::database& db, std::int64_t recording_id, const recording_totals& totals) {
  db.prepare("UPDATE recordings SET ended_at = ?, duration_ms = ?, segments = ? WHERE id = ?")
      .bind(1, totals.ended_at).bind(2, totals.duration_ms).bind(3, totals.segments).bind(4, recording_id).run();
}

std::map<std::int64_t, stream_start> latest_stream_starts(store::database& db) {
  std::map<std::int64_t, stream_start> out;
  // In start order, so each webinar's last row is the one kept.
  auto st = db.prepare("SELECT webinar_id, started_at, session_number FROM recordings ORDER BY started_at");
  while (st.step()) out[st.int64(0)] = {st.int64(1), session_column(st, 2)};
  return out;
}

std::vector<recording> recordings_of(store::database& db, std::int64_t webinar_id) {
  auto st = db.prepare(
      "SELECT id, session_number, started_at, ended_at, duration_ms, segments, dir FROM recordings"
      " WHERE webinar_id = ? ORDER BY started_at");
  st.bind(1, webinar_id);
  std::vector<recording> out;
  while (st.step())
    out.push_back({st.int64(0), session_column(st, 1), st.int64(2),
                   st.is_null(3) ? std::nullopt : std::optional<std::int64_t>(st.int64(3)), st.int64(4), st.int64(5), st.text(6)});
  return out;
}

std::string ended_recording_dir(store::database& db, std::int64_t webinar_id, std::int64_t recording_id) {
  auto st = db.prepare("SELECT dir, ended_at FROM recordings WHERE id = ? AND webinar_id = ?");
  st.bind(1, recording_id).bind(2, webinar_id);
  if (!st.step()) throw recording_not_found();
  if (st.is_null(1)) throw recording_still_live();
  return st.text(0);
}

void delete_recording(store::database& db, std::int64_t recording_id) {
  db.prepare("DELETE FROM recordings WHERE id = ?").bind(1, recording_id).run();
}

}  // namespace cohort::streaming

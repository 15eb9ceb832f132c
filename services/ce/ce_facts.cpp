#include "ce/ce_facts.hpp"

#include "common/errors.hpp"
#include "drops/schedule.hpp"

namespace cohort::ce {

session_facts load_facts(store::database& db, std::int64_t webinar_id, std::int64_t registration_id,
                         const registration::session_slot& slot, std::int64_t now) {
  session_facts f;
  f.starts_at = slot.starts_at;
  f.duration_minutes = slot.duration_minutes;
  f.now = now;

  // Attendance rows are one per (registrant, minute): a rejoin adds no minute twice.
  const auto [first, end] = drops::session_minutes(slot);
  auto& live = db.cached("SELECT count(*) FROM attendance WHERE webinar_id = ? AND registration_id = ? AND minute >= ? AND minute < ?");
  live.bind(1, webinar_id).bind(2, registration_id).bind(3, first).bind(4, end);
  live.step();
  f.live_minutes = live.int64(0);
  live.reset();

  // Replay: segments fetched of the session's ended recordings, over all their segments.
  auto& replay = db.cached(
      "SELECT (SELECT count(*) FROM replay_views v JOIN recordings r ON r.id = v.recording_id"
      "         WHERE v.registration_id = ?2 AND r.webinar_id = ?1 AND r.session_number = ?3 AND r.ended_at IS NOT NULL"
      "           AND v.segment >= 0 AND v.segment < r.segments),"
      "       (SELECT coalesce(sum(segments), 0) FROM recordings WHERE webinar_id = ?1 AND session_number = ?3 AND ended_at IS NOT NULL)");
  replay.bind(1, webinar_id).bind(2, registration_id).bind(3, slot.number);
  replay.step();
  f.replay_segments_seen = replay.int64(0);
  f.replay_segments_total = replay.int64(1);
  replay.reset();

  auto& attempts = db.cached(
      "SELECT count(*), max(score_percent), coalesce(max(passed), 0), max(CASE WHEN passed THEN score_percent END)"
      " FROM ce_attempts WHERE webinar_id = ? AND registration_id = ? AND session_number = ? AND submitted_at IS NOT NULL");
  attempts.bind(1, webinar_id).bind(2, registration_id).bind(3, slot.number);
  attempts.step();
  f.attempts_used = static_cast<int>(attempts.int64(0));
  if (const auto best = attempts.optional_int64(1)) f.best_score = static_cast<int>(*best);
  f.test_passed = attempts.int64(2) != 0;
  if (const auto best = attempts.optional_int64(3)) f.best_passing_score = static_cast<int>(*best);
  attempts.reset();

  auto& rest = db.cached(
      "SELECT (SELECT count(*) FROM ce_questions WHERE webinar_id = ?1 AND session_number = ?3),"
      "       (SELECT count(*) FROM ce_evaluation_items WHERE webinar_id = ?1 AND (session_number = ?3 OR session_number IS NULL)),"
      "       EXISTS (SELECT 1 FROM ce_evaluations WHERE webinar_id = ?1 AND registration_id = ?2 AND session_number = ?3),"
      "       EXISTS (SELECT 1 FROM ce_attestations WHERE webinar_id = ?1 AND registration_id = ?2 AND session_number = ?3)");
  rest.bind(1, webinar_id).bind(2, registration_id).bind(3, slot.number);
  rest.step();
  f.questions = static_cast<int>(rest.int64(0));
  f.evaluation_items = static_cast<int>(rest.int64(1));
  f.evaluation_submitted = rest.int64(2) != 0;
  f.attested = rest.int64(3) != 0;
  rest.reset();
  return f;
}

std::optional<certificate_ref> find_certificate(store::database& db, std::int64_t registration_id, int session_number) {
  auto& st = db.cached(
      "SELECT code, kind, issued_at, revoked_at FROM ce_certificates WHERE registration_id = ? AND session_number = ?"
      " ORDER BY revoked_at IS NULL DESC, id DESC LIMIT 1");
  st.bind(1, registration_id).bind(2, session_number);
  std::optional<certificate_ref> out;
  if (st.step()) out = certificate_ref{st.text(0), st.text(1), st.int64(2), st.optional_int64(3)};
  st.reset();
  return out;
}

session_standing load_standing(store::database& db, std::int64_t webinar_id, std::int64_t registration_id, int session_number,
                               std::int64_t now) {
  auto w = registration::find_webinar(db, webinar_id);
  if (!w) throw common::not_found("no webinar " + std::to_string(webinar_id));
  const auto* slot = drops::find_session(w->sessions, session_number);
  if (!slot) throw common::not_found("webinar " + std::to_string(webinar_id) + " has no session " + std::to_string(session_number));
  session_standing s{*w, load_settings(db, webinar_id), *slot, {}, {}, {}};
  s.facts = load_facts(db, webinar_id, registration_id, s.slot, now);
  s.where = evaluate(s.ce.completion_rule(), s.facts);
  s.certificate = find_certificate(db, registration_id, session_number);
  return s;
}

}  // namespace cohort::ce

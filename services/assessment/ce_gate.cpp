#include "assessment/ce_gate.hpp"

#include "common/errors.hpp"
#include "common/rfc3339.hpp"
#include "registration/registration_store.hpp"

#include <algorithm>

namespace cohort::assessment {

ce_settings load_settings(store::database& db, std::int64_t webinar_id) {
  auto st = db.prepare(
      "SELECT offered, live_credit, recorded_credit, min_percent, test_required, pass_percent, attempts_max, shuffle,"
      " evaluation_required FROM ce_series WHERE webinar_id = ?");
  st.bind(1, webinar_id);
  ce_settings s;
  if (!st.step()) return s;
  s.offered = st.int64(0) != 0;
  s.live_credit = st.int64(1) != 0;
  s.recorded_credit = st.int64(2) != 0;
  s.min_percent = static_cast<int>(st.int64(3));
  s.test_required = st.int64(4) != 0;
  s.pass_percent = static_cast<int>(st.int64(5));
  s.attempts_max = static_cast<int>(st.int64(6));
  s.shuffle = st.int64(7) != 0;
  s.evaluation_required = st.int64(8) != 0;
  return s;
}

session_window load_session(store::database& db, std::int64_t webinar_id, int number) {
  auto st = db.prepare("SELECT starts_at, duration_minutes FROM sessions WHERE webinar_id = ? AND number = ?");
  st.bind(1, webinar_id).bind(2, number);
  if (!st.step()) throw common::not_found("this series has no session " + std::to_string(number));
  return {number, st.int64(0), static_cast<int>(st.int64(1))};
}

std::int64_t live_minutes(store::database& db, std::int64_t webinar_id, std::int64_t registration_id, const session_window& s) {
  auto st = db.prepare(
      "SELECT count(DISTINCT minute) FROM attendance WHERE webinar_id = ? AND registration_id = ?"
      " AND minute * 60 >= ? AND minute * 60 < ?");
  st.bind(1, webinar_id).bind(2, registration_id).bind(3, s.starts_at).bind(4, s.ends_at());
  st.step();
  return st.int64(0);
}

std::int64_t live_minutes_needed(int min_percent, int duration_minutes) {
  return (std::int64_t{min_percent} * duration_minutes + 99) / 100;
}

replay_progress replay_share(store::database& db, std::int64_t webinar_id, std::int64_t registration_id, int session) {
  replay_progress p;
  auto total = db.prepare(
      "SELECT coalesce(sum(segments), 0) FROM recordings WHERE webinar_id = ? AND session_number = ? AND ended_at IS NOT NULL");
  total.bind(1, webinar_id).bind(2, session);
  total.step();
  p.total = total.int64(0);
  auto watched = db.prepare(
      "SELECT count(*) FROM replay_views v JOIN recordings r ON r.id = v.recording_id"
      " WHERE v.registration_id = ? AND r.webinar_id = ? AND r.session_number = ? AND r.ended_at IS NOT NULL");
  watched.bind(1, registration_id).bind(2, webinar_id).bind(3, session);
  watched.step();
  p.watched = watched.int64(0);
  return p;
}

std::optional<closed_reason> closed_for(store::database& db, const ce_settings& ce, std::int64_t webinar_id,
                                        std::int64_t registration_id, const session_window& s, std::int64_t now,
                                        const std::string& what, bool needs_attendance) {
  if (!ce.offered) return closed_reason{"not_offered", "CE is not offered for this series"};
  const auto n = std::to_string(s.number);
  if (now < s.ends_at())
    return closed_reason{"not_ended", what + " opens when session " + n + " ends (" + common::format_rfc3339(s.ends_at()) + ")"};
  if (!needs_attendance) return std::nullopt;
  const auto minutes = live_minutes(db, webinar_id, registration_id, s);
  const auto needed = live_minutes_needed(ce.min_percent, s.duration_minutes);
  if (minutes >= needed) return std::nullopt;
  std::string message = what + " needs " + std::to_string(needed) + " of the session's " + std::to_string(s.duration_minutes) +
                        " live minutes (you attended " + std::to_string(minutes) + ")";
  if (ce.recorded_credit) {
    const auto replay = replay_share(db, webinar_id, registration_id, s.number);
    if (replay.reaches(ce.min_percent)) return std::nullopt;
    message += replay.total > 0 ? ", or watching " + std::to_string(ce.min_percent) + "% of the replay (you watched " +
                                      std::to_string(replay.percent()) + "%)"
                                : ", or watching " + std::to_string(ce.min_percent) + "% of the replay once it is published";
  }
  return closed_reason{"not_attended", message};
}

void require_open(store::database& db, const ce_settings& ce, std::int64_t webinar_id, std::int64_t registration_id,
                  const session_window& s, std::int64_t now, const std::string& what, bool needs_attendance) {
  if (auto why = closed_for(db, ce, webinar_id, registration_id, s, now, what, needs_attendance))
    throw common::forbidden(why->message, why->code);
}

std::int64_t seated_registration(store::database& db, std::int64_t registration_id, const std::string& token_nonce_hash) {
  const auto r = registration::active_registration(db, registration_id, token_nonce_hash);
  registration::require_seat(r);
  auto erased = db.prepare("SELECT erased_at IS NOT NULL FROM registrations WHERE id = ?");
  erased.bind(1, registration_id);
  if (erased.step() && erased.int64(0) != 0) throw common::forbidden("this registration's personal data was erased", "erased");
  return r.webinar_id;
}

}  // namespace cohort::assessment

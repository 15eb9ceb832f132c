// When a registrant's post-test and evaluation for a session are open, read from the schema the
// CE slices share (migrations step 15): the series' ce_series row (none: CE not offered), the
// session's window, the live minutes in `attendance` and the replay share in `replay_views`
// (common rules: distinct minutes in [starts_at, end); fetched segments of the session's ended
// recordings over their segment total). Works on whichever connection it is given: a reader for
// a GET, the writer inside the write that acts on the answer.
#pragma once

#include "store/sqlite.hpp"

#include <cstdint>
#include <optional>
#include <string>

namespace cohort::assessment {

struct ce_settings {
  bool offered = false;
  bool live_credit = true;
  bool recorded_credit = false;
  int min_percent = 85;
  bool test_required = true;
  int pass_percent = 80;
  int attempts_max = 3;
  bool shuffle = true;
  bool evaluation_required = false;
};
// The defaults above (offered = false) when the series has no ce_series row.
ce_settings load_settings(store::database& db, std::int64_t webinar_id);

struct session_window {
  int number = 0;
  std::int64_t starts_at = 0;
  int duration_minutes = 0;
  std::int64_t ends_at() const { return starts_at + std::int64_t{duration_minutes} * 60; }
};
// Throws common::not_found for a session the series does not have.
session_window load_session(store::database& db, std::int64_t webinar_id, int number);

std::int64_t live_minutes(store::database& db, std::int64_t webinar_id, std::int64_t registration_id, const session_window& s);
// ceil(min_percent / 100 * duration): exactly at it passes.
std::int64_t live_minutes_needed(int min_percent, int duration_minutes);

struct replay_progress {
  std::int64_t watched = 0;  // distinct segments fetched
  std::int64_t total = 0;    // segments of the session's ended recordings; 0: no replay yet
  bool reaches(int min_percent) const { return total > 0 && watched * 100 >= std::int64_t{min_percent} * total; }
  int percent() const { return total > 0 ? static_cast<int>(std::min<std::int64_t>(100, watched * 100 / total)) : 0; }
};
replay_progress replay_share(store::database& db, std::int64_t webinar_id, std::int64_t registration_id, int session);

// Why something is closed: `code` for the page (not_offered, not_ended, not_attended) and a
// sentence saying what is needed.
struct closed_reason {
  std::string code;
  std::string message;
};
// nullopt: open. `what` names the thing in the messages ("The post-test", "The evaluation");
// `needs_attendance`: the post-test also needs the live minutes or the replay share.
std::optional<closed_reason> closed_for(store::database& db, const ce_settings& ce, std::int64_t webinar_id,
                                        std::int64_t registration_id, const session_window& s, std::int64_t now,
                                        const std::string& what, bool needs_attendance);
// Throws common::forbidden(code, message) when closed_for says closed.
void require_open(store::database& db, const ce_settings& ce, std::int64_t webinar_id, std::int64_t registration_id,
                  const session_window& s, std::int64_t now, const std::string& what, bool needs_attendance);

// The registration behind a registrant token, seated (not waitlisted, unconfirmed, cancelled or
// erased). Throws common::unauthorized / common::forbidden. Returns its webinar id.
std::int64_t seated_registration(store::database& db, std::int64_t registration_id, const std::string& token_nonce_hash);

}  // namespace cohort::assessment

// The CE completion rule for one registrant and one session, without a database: from the facts
// (session window, minutes attended, replay share, post-test, evaluation, attestation) to where
// they stand and exactly what is still missing, in the words the therapist reads on "My CE".
// Shared facts (see common15 / migration 15): live credit needs live minutes >= ceil(min_percent
// × duration / 100); recorded credit needs the replay share >= min_percent and no live credit.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cohort::ce {

// The series' completion rule (ce_series).
struct rule {
  int min_percent = 85;
  bool live_credit = true;
  bool recorded_credit = false;
  bool test_required = true;
  int pass_percent = 80;
  int attempts_max = 3;
  bool evaluation_required = false;
  bool attestation_required = false;  // ce_series.attestation is not ''
};

// What is known about one registrant and one session at `now`.
struct session_facts {
  std::int64_t starts_at = 0;
  int duration_minutes = 60;
  std::int64_t now = 0;
  std::int64_t live_minutes = 0;            // distinct attendance minutes inside the window
  std::int64_t replay_segments_seen = 0;    // distinct (recording, segment) fetched
  std::int64_t replay_segments_total = 0;   // segments of the session's ended recordings; 0: no replay
  int questions = 0;                        // the post-test bank of the session
  int attempts_used = 0;                    // submitted attempts
  bool test_passed = false;
  std::optional<int> best_score;            // best submitted score
  std::optional<int> best_passing_score;
  int evaluation_items = 0;                 // items for this session or the whole series
  bool evaluation_submitted = false;
  bool attested = false;

  std::int64_t ends_at() const { return starts_at + std::int64_t{duration_minutes} * 60; }
};

enum class state { upcoming, in_progress, complete, failed };
enum class credit_kind { none, live, recorded };
std::string_view to_string(state s);
std::string_view to_string(credit_kind k);

struct missing_item {
  std::string code;  // upcoming | in_session | attendance | replay | test | test_unpublished | evaluation | attestation
  std::string text;  // what the therapist reads
};

struct progress {
  state where = state::upcoming;
  credit_kind kind = credit_kind::none;
  std::vector<missing_item> missing;
  std::int64_t live_threshold = 0;  // minutes needed for live credit
  int replay_percent = 0;           // floor of the share watched, 0..100
  bool test_open = false;           // session ended and the viewing rule met (live or recorded)
};

// ceil(min_percent × duration / 100), in whole minutes.
std::int64_t live_threshold(int min_percent, int duration_minutes);
// seen / total >= min_percent / 100, without floating point; false when there is no replay.
bool replay_met(int min_percent, std::int64_t seen, std::int64_t total);

progress evaluate(const rule& r, const session_facts& f);

}  // namespace cohort::ce

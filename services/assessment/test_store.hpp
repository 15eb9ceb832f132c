// The post-test in the database: the bank per session (ce_questions) and every attempt
// (ce_attempts). An attempt keeps the questions as shown, with their correct sets, so a later edit
// of the bank changes nothing about how an open attempt is graded. Writes run on the single
// writer inside its transaction; the rules (gate, limits) are checked in that same transaction.
#pragma once

#include "assessment/ce_gate.hpp"
#include "assessment/question_bank.hpp"
#include "store/sqlite.hpp"

#include <cstdint>
#include <optional>
#include <random>
#include <vector>

namespace cohort::assessment {

std::vector<question> load_bank(store::database& db, std::int64_t webinar_id, int session);
// Replaces the session's bank (the caller's transaction). Throws common::not_found for an unknown
// session.
void replace_bank(store::database& db, std::int64_t webinar_id, int session, const std::vector<question>& bank);

struct attempt {
  std::int64_t id = 0;
  std::int64_t started_at = 0;
  std::optional<std::int64_t> submitted_at;  // nullopt: open
  std::optional<int> score_percent;
  bool passed = false;
  std::string shown;  // ce_attempts.shown (with the correct sets: server side only)
};
std::vector<attempt> list_attempts(store::database& db, std::int64_t webinar_id, std::int64_t registration_id, int session);

// A registrant's test for one session, as GET /api/me/ce/{session}/test tells it.
struct test_state {
  session_window session;
  ce_settings ce;
  std::optional<closed_reason> closed;  // why no attempt may start (gate, no questions, passed, used up)
  std::vector<attempt> attempts;
  int questions = 0;
  bool passed = false;
  std::optional<int> best_score;
  const attempt* open_attempt() const;
};
test_state load_test_state(store::database& db, std::int64_t webinar_id, std::int64_t registration_id, int session,
                           std::int64_t now);

// Starts an attempt, or returns the open one (second: true when new). Throws common::forbidden
// (closed: not_offered, not_ended, not_attended) or common::conflict (already_passed,
// no_attempts_left, no_questions).
std::pair<attempt, bool> start_attempt(store::database& db, std::int64_t webinar_id, std::int64_t registration_id, int session,
                                       std::int64_t now, std::mt19937_64& rng);

struct graded_attempt {
  attempt row;
  grade result;
};
// Grades the registrant's open attempt with the answers given. Throws common::not_found (not
// theirs, or another session's), common::conflict (already submitted), common::invalid (answers).
graded_attempt submit_attempt(store::database& db, std::int64_t webinar_id, std::int64_t registration_id, int session,
                              std::int64_t attempt_id, const boost::json::object& body, std::int64_t now);

}  // namespace cohort::assessment

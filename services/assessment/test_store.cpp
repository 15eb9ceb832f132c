#include "assessment/test_store.hpp"

#include "common/errors.hpp"

#include <boost/json.hpp>

#include <algorithm>

namespace cohort::assessment {
namespace json = boost::json;

std::vector<question> load_bank(store::database& db, std::int64_t webinar_id, int session) {
  auto st = db.prepare(
      "SELECT id, kind, prompt, options, correct FROM ce_questions WHERE webinar_id = ? AND session_number = ? ORDER BY position, id");
  st.bind(1, webinar_id).bind(2, session);
  std::vector<question> bank;
  while (st.step()) {
    question q{st.int64(0), st.text(1), st.text(2), {}, {}};
    const auto options = json::parse(st.text(3)), correct = json::parse(st.text(4));
    for (const auto& o : options.as_array()) q.options.emplace_back(o.as_string());
    for (const auto& c : correct.as_array()) q.correct.push_back(static_cast<int>(c.as_int64()));
    bank.push_back(std::move(q));
  }
  return bank;
}

void replace_bank(store::database& db, std::int64_t webinar_id, int session, const std::vector<question>& bank) {
  load_session(db, webinar_id, session);
  auto del = db.prepare("DELETE FROM ce_questions WHERE webinar_id = ? AND session_number = ?");
  del.bind(1, webinar_id).bind(2, session);
  del.run();
  auto ins = db.prepare(
      "INSERT INTO ce_questions (webinar_id, session_number, position, kind, prompt, options, correct) VALUES (?, ?, ?, ?, ?, ?, ?)");
  int position = 0;
  for (const auto& q : bank) {
    const auto o = organizer_json(q);
    ins.reset();
    ins.bind(1, webinar_id).bind(2, session).bind(3, ++position).bind(4, q.kind).bind(5, q.prompt);
    ins.bind(6, json::serialize(o.at("options"))).bind(7, json::serialize(o.at("correct")));
    ins.run();
  }
}

namespace {

attempt read_attempt(store::statement& st) {
  attempt a{st.int64(0), st.int64(1), st.optional_int64(2), {}, st.int64(4) != 0, st.text(5)};
  if (const auto s = st.optional_int64(3)) a.score_percent = static_cast<int>(*s);
  return a;
}

constexpr const char* attempt_columns = "SELECT id, started_at, submitted_at, score_percent, coalesce(passed, 0), shown FROM ce_attempts";

}  // namespace

std::vector<attempt> list_attempts(store::database& db, std::int64_t webinar_id, std::int64_t registration_id, int session) {
  auto st = db.prepare(std::string(attempt_columns) + " WHERE webinar_id = ? AND registration_id = ? AND session_number = ? ORDER BY id");
  st.bind(1, webinar_id).bind(2, registration_id).bind(3, session);
  std::vector<attempt> out;
  while (st.step()) out.push_back(read_attempt(st));
  return out;
}

const attempt* test_state::open_attempt() const {
  const auto it = std::find_if(attempts.begin(), attempts.end(), [](const attempt& a) { return !a.submitted_at; });
  return it == attempts.end() ? nullptr : &*it;
}

test_state load_test_state(store::database& db, std::int64_t webinar_id, std::int64_t registration_id, int session,
                           std::int64_t now) {
  test_state t;
  t.session = load_session(db, webinar_id, session);
  t.ce = load_settings(db, webinar_id);
  t.attempts = list_attempts(db, webinar_id, registration_id, session);
  t.questions = static_cast<int>(load_bank(db, webinar_id, session).size());
  for (const auto& a : t.attempts) {
    t.passed = t.passed || a.passed;
    if (a.score_percent && (!t.best_score || *a.score_percent > *t.best_score)) t.best_score = a.score_percent;
  }
  t.closed = closed_for(db, t.ce, webinar_id, registration_id, t.session, now, "The post-test", true);
  if (t.closed || t.open_attempt()) return t;
  if (t.passed)
    t.closed = closed_reason{"already_passed", "You passed this post-test"};
  else if (static_cast<int>(t.attempts.size()) >= t.ce.attempts_max)
    t.closed = closed_reason{"no_attempts_left", "No attempts left: all " + std::to_string(t.ce.attempts_max) + " were used"};
  else if (t.questions == 0)
    t.closed = closed_reason{"no_questions", "This session has no post-test questions yet"};
  return t;
}

std::pair<attempt, bool> start_attempt(store::database& db, std::int64_t webinar_id, std::int64_t registration_id, int session,
                                       std::int64_t now, std::mt19937_64& rng) {
  const auto t = load_test_state(db, webinar_id, registration_id, session, now);
  if (const auto* open = t.open_attempt(); open && !t.closed) return {*open, false};
  if (t.closed) {
    const auto& c = t.closed->code;
    if (c == "not_offered" || c == "not_ended" || c == "not_attended") throw common::forbidden(t.closed->message, c);
    throw common::conflict(t.closed->message, c);
  }
  const auto shown = store_shown(make_shown(load_bank(db, webinar_id, session), t.ce.shuffle, rng));
  auto ins = db.prepare(
      "INSERT INTO ce_attempts (webinar_id, registration_id, session_number, started_at, shown) VALUES (?, ?, ?, ?, ?)");
  ins.bind(1, webinar_id).bind(2, registration_id).bind(3, session).bind(4, now).bind(5, shown);
  ins.run();
  return {attempt{db.last_insert_rowid(), now, std::nullopt, std::nullopt, false, shown}, true};
}

graded_attempt submit_attempt(store::database& db, std::int64_t webinar_id, std::int64_t registration_id, int session,
                              std::int64_t attempt_id, const json::object& body, std::int64_t now) {
  auto st = db.prepare(std::string(attempt_columns) +
                       " WHERE id = ? AND webinar_id = ? AND registration_id = ? AND session_number = ?");
  st.bind(1, attempt_id).bind(2, webinar_id).bind(3, registration_id).bind(4, session);
  if (!st.step()) throw common::not_found("no such attempt");
  auto a = read_attempt(st);
  if (a.submitted_at) throw common::conflict("this attempt was already submitted; start another one", "already_submitted");
  const auto shown = load_shown(a.shown);
  const auto answers = parse_answers(body, shown);
  const auto g = grade_answers(shown, answers);
  const auto ce = load_settings(db, webinar_id);
  a.submitted_at = now;
  a.score_percent = g.score_percent;
  a.passed = g.score_percent >= ce.pass_percent;
  auto up = db.prepare("UPDATE ce_attempts SET submitted_at = ?, answers = ?, score_percent = ?, passed = ? WHERE id = ?");
  up.bind(1, now).bind(2, json::serialize(answers_json(answers))).bind(3, g.score_percent).bind(4, a.passed ? 1 : 0).bind(5, attempt_id);
  up.run();
  return {std::move(a), g};
}

}  // namespace cohort::assessment

#include "registration/question_store.hpp"

#include "common/errors.hpp"

#include <boost/json.hpp>

#include <algorithm>

namespace cohort::registration {
namespace json = boost::json;

namespace {

constexpr const char* select_question = "SELECT id, webinar_id, key, label, kind, options, required FROM registration_questions";

std::vector<std::string> options_from(const std::string& text) {
  std::vector<std::string> out;
  boost::system::error_code ec;
  const auto v = json::parse(text, ec);
  if (ec || !v.is_array()) return out;
  for (const auto& o : v.get_array())
    if (o.is_string()) out.emplace_back(o.get_string());
  return out;
}

std::string options_text(const std::vector<std::string>& options) {
  json::array a;
  for (const auto& o : options) a.emplace_back(o);
  return json::serialize(a);
}

question read_row(const store::statement& st) {
  return question{st.int64(0), st.text(2), st.text(3), st.text(4), options_from(st.text(5)), st.int64(6) != 0};
}

// Answers the changed question can no longer hold: all of them when its kind changed; for a
// choice, those not among its options now.
void drop_stale_answers(store::database& db, const question& before, const question& after) {
  if (before.kind != after.kind) {
    db.prepare("DELETE FROM registration_answers WHERE question_id = ?").bind(1, before.id).run();
  } else if (after.kind == "choice" && before.options != after.options) {
    db.prepare("DELETE FROM registration_answers WHERE question_id = ? AND value NOT IN (SELECT value FROM json_each(?))")
        .bind(1, before.id)
        .bind(2, options_text(after.options))
        .run();
  }
}

}  // namespace

std::vector<question> questions_of(store::database& db, std::int64_t webinar_id) {
  auto& st = db.cached(std::string(select_question) + " WHERE webinar_id = ? ORDER BY position, id");
  st.bind(1, webinar_id);
  std::vector<question> out;
  while (st.step()) out.push_back(read_row(st));
  st.reset();
  return out;
}

std::map<std::int64_t, std::vector<question>> questions_by_webinar(store::database& db) {
  auto st = db.prepare(std::string(select_question) + " ORDER BY webinar_id, position, id");
  std::map<std::int64_t, std::vector<question>> out;
  while (st.step()) out[st.int64(1)].push_back(read_row(st));
  return out;
}

std::vector<question> save_questions(store::database& db, std::int64_t webinar_id, const std::vector<question>& questions) {
  auto exists = db.prepare("SELECT 1 FROM webinars WHERE id = ?");
  exists.bind(1, webinar_id);
  if (!exists.step()) throw common::not_found("no webinar " + std::to_string(webinar_id));
  const auto before = questions_of(db, webinar_id);
  // q<number> names the server's own custom questions: a new one named so could take the name a
  // later question is given.
  for (std::size_t i = 0; i < questions.size(); ++i) {
    const auto& key = questions[i].key;
    const bool server_style = key.size() > 1 && key[0] == 'q' && key.find_first_not_of("0123456789", 1) == std::string::npos;
    if (server_style && std::none_of(before.begin(), before.end(), [&](const question& b) { return b.key == key; }))
      throw common::invalid("questions[" + std::to_string(i) + "].key", "no question of this series has the key " + key +
                                                                            " (q<number> keys are given by the server)");
  }
  json::array kept;
  for (const auto& q : questions)
    if (!q.key.empty()) kept.emplace_back(q.key);
  db.prepare("DELETE FROM registration_questions WHERE webinar_id = ? AND key NOT IN (SELECT value FROM json_each(?))")
      .bind(1, webinar_id)
      .bind(2, json::serialize(kept))
      .run();
  int position = 0;
  for (const auto& q : questions) {
    ++position;
    const auto old = std::find_if(before.begin(), before.end(), [&](const question& b) { return !q.key.empty() && b.key == q.key; });
    if (old != before.end()) {
      drop_stale_answers(db, *old, q);
      db.prepare("UPDATE registration_questions SET position = ?, label = ?, kind = ?, options = ?, required = ? WHERE id = ?")
          .bind(1, position).bind(2, q.label).bind(3, q.kind).bind(4, options_text(q.options)).bind(5, q.required ? 1 : 0)
          .bind(6, old->id).run();
      continue;
    }
    // A new custom question is named after its row: a temporary unique key, then q<id>.
    db.prepare("INSERT INTO registration_questions (webinar_id, position, key, label, kind, options, required) VALUES (?, ?, ?, ?, ?, ?, ?)")
        .bind(1, webinar_id).bind(2, position).bind(3, q.key.empty() ? " new " + std::to_string(position) : q.key).bind(4, q.label)
        .bind(5, q.kind).bind(6, options_text(q.options)).bind(7, q.required ? 1 : 0).run();
    if (q.key.empty()) {
      const auto id = db.last_insert_rowid();
      // A custom key the organizer already gave q<id> is refused by UNIQUE: the list is undone.
      db.prepare("UPDATE registration_questions SET key = 'q' || id WHERE id = ?").bind(1, id).run();
    }
  }
  return questions_of(db, webinar_id);
}

void store_answers(store::database& db, std::int64_t registration_id, const std::vector<answer>& answers) {
  auto& st = db.cached("INSERT INTO registration_answers (registration_id, question_id, value) VALUES (?, ?, ?)");
  for (const auto& a : answers) {
    st.bind(1, registration_id).bind(2, a.question_id).bind(3, a.value).run();
    st.reset();
  }
}

std::map<std::int64_t, std::string> answers_of(store::database& db, std::int64_t registration_id) {
  auto& st = db.cached("SELECT question_id, value FROM registration_answers WHERE registration_id = ?");
  st.bind(1, registration_id);
  std::map<std::int64_t, std::string> out;
  while (st.step()) out.emplace(st.int64(0), st.text(1));
  st.reset();
  return out;
}

std::map<std::int64_t, std::map<std::int64_t, std::string>> answers_of_webinar(store::database& db, std::int64_t webinar_id,
                                                                                std::int64_t from_id, std::int64_t to_id) {
  auto st = db.prepare(
      "SELECT a.registration_id, a.question_id, a.value FROM registration_answers a"
      " JOIN registration_questions q ON q.id = a.question_id"
      " WHERE q.webinar_id = ? AND a.registration_id BETWEEN ? AND ?");
  st.bind(1, webinar_id).bind(2, from_id).bind(3, to_id);
  std::map<std::int64_t, std::map<std::int64_t, std::string>> out;
  while (st.step()) out[st.int64(0)].emplace(st.int64(1), st.text(2));
  return out;
}

}  // namespace cohort::registration

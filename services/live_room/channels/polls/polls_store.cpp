#include "live_room/channels/polls/polls_store.hpp"

#include "live_room/channels/polls/polls_channel.hpp"

#include <boost/json.hpp>

namespace cohort::live_room {
namespace json = boost::json;

namespace {

std::string options_json(const std::vector<std::string>& options) {
  json::array a;
  for (const auto& o : options) a.emplace_back(o);
  return json::serialize(a);
}

std::vector<std::string> parse_options(const std::string& text) {
  std::vector<std::string> out;
  const auto parsed = json::parse(text);  // kept: the loop reads into it
  for (const auto& v : parsed.as_array()) out.emplace_back(v.as_string());
  return out;
}

std::vector<int> parse_choices(const std::string& text) {
  std::vector<int> out;
  const auto parsed = json::parse(text);
  for (const auto& v : parsed.as_array()) out.push_back(v.to_number<int>());
  return out;
}

std::string choices_json(const std::vector<int>& choices) {
  json::array a;
  for (auto c : choices) a.emplace_back(c);
  return json::serialize(a);
}

constexpr const char* poll_columns =
    "SELECT id, webinar_id, session, question, kind, options, state, shown, rev, created_at, opened_ms, closed_ms FROM polls";

poll_row read_poll(store::statement& st) {
  poll_row r;
  r.id = st.int64(0);
  r.webinar_id = st.int64(1);
  r.input = poll_input{static_cast<int>(st.int64(2)), st.text(3), st.text(4), parse_options(st.text(5))};
  r.state = st.text(6);
  r.shown = st.int64(7) != 0;
  r.rev = st.int64(8);
  r.created_at = st.int64(9);
  r.opened_ms = st.optional_int64(10);
  r.closed_ms = st.optional_int64(11);
  return r;
}

}  // namespace

std::int64_t insert_poll(store::database& db, std::int64_t webinar_id, const poll_input& in, std::int64_t now) {
  db.prepare("INSERT INTO polls (webinar_id, session, question, kind, options, created_at) VALUES (?, ?, ?, ?, ?, ?)")
      .bind(1, webinar_id)
      .bind(2, in.session)
      .bind(3, in.question)
      .bind(4, in.kind)
      .bind(5, options_json(in.options))
      .bind(6, now)
      .run();
  return db.last_insert_rowid();
}

std::optional<poll_row> find_poll(store::database& db, std::int64_t webinar_id, std::int64_t poll_id) {
  auto st = db.prepare(std::string(poll_columns) + " WHERE id = ? AND webinar_id = ?");
  st.bind(1, poll_id).bind(2, webinar_id);
  if (!st.step()) return std::nullopt;
  return read_poll(st);
}

std::vector<poll_row> list_polls(store::database& db, std::int64_t webinar_id, int session) {
  auto st = db.prepare(std::string(poll_columns) + " WHERE webinar_id = ? AND (? = 0 OR session = ?) ORDER BY session, id");
  st.bind(1, webinar_id).bind(2, session).bind(3, session);
  std::vector<poll_row> out;
  while (st.step()) out.push_back(read_poll(st));
  return out;
}

std::int64_t count_polls(store::database& db, std::int64_t webinar_id) {
  auto st = db.prepare("SELECT count(*) FROM polls WHERE webinar_id = ?");
  st.bind(1, webinar_id);
  st.step();
  return st.int64(0);
}

void update_poll(store::database& db, std::int64_t poll_id, const poll_input& in) {
  db.prepare("UPDATE polls SET session = ?, question = ?, kind = ?, options = ? WHERE id = ?")
      .bind(1, in.session)
      .bind(2, in.question)
      .bind(3, in.kind)
      .bind(4, options_json(in.options))
      .bind(5, poll_id)
      .run();
}

std::int64_t save_poll_state(store::database& db, const poll_row& row) {
  db.prepare("UPDATE polls SET state = ?, shown = ?, opened_ms = ?, closed_ms = ?, rev = rev + 1 WHERE id = ?")
      .bind(1, row.state)
      .bind(2, row.shown ? 1 : 0)
      .bind(3, row.opened_ms)
      .bind(4, row.closed_ms)
      .bind(5, row.id)
      .run();
  auto st = db.prepare("SELECT rev FROM polls WHERE id = ?");
  st.bind(1, row.id);
  st.step();
  return st.int64(0);
}

void upsert_answer(store::database& db, std::int64_t webinar_id, std::int64_t poll_id, std::int64_t registration_id,
                   const std::vector<int>& choices, std::int64_t answered_ms) {
  db.cached(
        "INSERT INTO poll_answers (poll_id, registration_id, choices, answered_ms)"
        " SELECT ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM polls WHERE id = ? AND webinar_id = ? AND state <> 'draft')"
        " ON CONFLICT (poll_id, registration_id) DO UPDATE SET choices = excluded.choices, answered_ms = excluded.answered_ms"
        " WHERE excluded.answered_ms > poll_answers.answered_ms"
        "    OR (excluded.answered_ms = poll_answers.answered_ms AND excluded.choices > poll_answers.choices)")
      .bind(1, poll_id)
      .bind(2, registration_id)
      .bind(3, choices_json(choices))
      .bind(4, answered_ms)
      .bind(5, poll_id)
      .bind(6, webinar_id)
      .run();
}

poll_tally tally_poll(store::database& db, const poll_row& poll) {
  poll_tally t;
  t.counts.assign(poll.input.options.size(), 0);
  auto st = db.prepare("SELECT choices FROM poll_answers WHERE poll_id = ? AND (? IS NULL OR answered_ms <= ?)");
  st.bind(1, poll.id).bind(2, poll.closed_ms).bind(3, poll.closed_ms);
  while (st.step()) {
    ++t.voters;
    for (auto c : parse_choices(st.text(0)))
      if (c >= 0 && static_cast<std::size_t>(c) < t.counts.size()) ++t.counts[static_cast<std::size_t>(c)];
  }
  return t;
}

std::vector<std::string> poll_state_frames(store::database& db, std::int64_t webinar_id) {
  std::vector<std::string> out;
  for (const auto& p : list_polls(db, webinar_id, 0))
    if (p.state != "draft") out.push_back(poll_frame(p));
  auto st = db.prepare(
      "SELECT a.poll_id, a.registration_id, a.choices, a.answered_ms FROM poll_answers a JOIN polls p ON p.id = a.poll_id"
      " WHERE p.webinar_id = ?");
  st.bind(1, webinar_id);
  while (st.step()) out.push_back(vote_frame(st.int64(0), st.int64(1), parse_choices(st.text(2)), st.int64(3)));
  return out;
}

void for_each_answer(store::database& db, std::int64_t webinar_id, const std::function<void(const answer_row&)>& visit) {
  auto st = db.prepare(
      "SELECT p.id, p.session, p.question, p.options, a.registration_id, coalesce(r.name, ''), coalesce(r.email, ''), a.choices,"
      " a.answered_ms FROM poll_answers a JOIN polls p ON p.id = a.poll_id LEFT JOIN registrations r ON r.id = a.registration_id"
      " WHERE p.webinar_id = ? AND (p.closed_ms IS NULL OR a.answered_ms <= p.closed_ms) ORDER BY p.session, p.id, a.registration_id");
  st.bind(1, webinar_id);
  while (st.step()) {
    const auto options = parse_options(st.text(3));
    std::string answer;
    for (auto c : parse_choices(st.text(7))) {
      if (c < 0 || static_cast<std::size_t>(c) >= options.size()) continue;
      if (!answer.empty()) answer += "; ";
      answer += options[static_cast<std::size_t>(c)];
    }
    visit(answer_row{st.int64(0), static_cast<int>(st.int64(1)), st.text(2), st.int64(4), st.text(5), st.text(6), std::move(answer),
                     st.int64(8)});
  }
}

}  // namespace cohort::live_room

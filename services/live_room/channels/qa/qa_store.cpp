#include "live_room/channels/qa/qa_store.hpp"

#include "live_room/channels/qa/qa_channel.hpp"

#include <boost/json.hpp>

namespace cohort::live_room {
namespace json = boost::json;

namespace {

std::string mark_stored(const std::string& frame) {
  auto o = json::parse(frame).as_object();
  o["stored"] = true;
  return json::serialize(o);
}

}  // namespace

void insert_question(store::database& db, std::int64_t webinar_id, const stored_question& q) {
  db.cached("INSERT OR IGNORE INTO qa_questions (webinar_id, question_id, asker_id, asker_name, anonymous, text, asked_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)")
      .bind(1, webinar_id)
      .bind(2, q.id)
      .bind(3, q.asker_id)
      .bind(4, q.asker_name)
      .bind(5, q.anonymous ? 1 : 0)
      .bind(6, q.text)
      .bind(7, q.asked_at_ms)
      .run();
}

void raise_status(store::database& db, std::int64_t webinar_id, const std::string& question_id, const std::string& status) {
  db.cached("INSERT INTO qa_status (webinar_id, question_id, status, rank) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (webinar_id, question_id) DO UPDATE SET status = excluded.status, rank = excluded.rank"
            " WHERE excluded.rank > rank")
      .bind(1, webinar_id)
      .bind(2, question_id)
      .bind(3, status)
      .bind(4, status_rank(status))
      .run();
}

void put_vote(store::database& db, std::int64_t webinar_id, const std::string& question_id, std::int64_t voter, bool up, std::int64_t at_ms) {
  // The latest change wins; at the same instant a withdrawal wins (as in the room).
  db.cached("INSERT INTO qa_votes (webinar_id, question_id, registration_id, up, at) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT (webinar_id, question_id, registration_id) DO UPDATE SET up = excluded.up, at = excluded.at"
            " WHERE excluded.at > at OR (excluded.at = at AND excluded.up < up)")
      .bind(1, webinar_id)
      .bind(2, question_id)
      .bind(3, voter)
      .bind(4, up ? 1 : 0)
      .bind(5, at_ms)
      .run();
}

void put_pin(store::database& db, std::int64_t webinar_id, const std::optional<std::string>& question_id, std::int64_t at_ms) {
  auto& st = db.cached(
      "INSERT INTO qa_settings (webinar_id, pinned, pinned_at) VALUES (?, ?, ?)"
      " ON CONFLICT (webinar_id) DO UPDATE SET pinned = excluded.pinned, pinned_at = excluded.pinned_at WHERE excluded.pinned_at > pinned_at");
  st.bind(1, webinar_id);
  if (question_id) st.bind(2, *question_id);
  else st.bind_null(2);
  st.bind(3, at_ms).run();
}

void put_anonymous(store::database& db, std::int64_t webinar_id, bool anonymous, std::int64_t at_ms) {
  db.cached("INSERT INTO qa_settings (webinar_id, anonymous, anonymous_at) VALUES (?, ?, ?)"
            " ON CONFLICT (webinar_id) DO UPDATE SET anonymous = excluded.anonymous, anonymous_at = excluded.anonymous_at"
            " WHERE excluded.anonymous_at > anonymous_at")
      .bind(1, webinar_id)
      .bind(2, anonymous ? 1 : 0)
      .bind(3, at_ms)
      .run();
}

bool question_exists(store::database& db, std::int64_t webinar_id, const std::string& question_id) {
  auto st = db.prepare("SELECT 1 FROM qa_questions WHERE webinar_id = ? AND question_id = ?");
  st.bind(1, webinar_id).bind(2, question_id);
  return st.step();
}

std::vector<std::string> qa_state_frames(store::database& db, std::int64_t webinar_id) {
  std::vector<std::string> out;
  {
    auto st = db.prepare("SELECT question_id, asker_id, asker_name, anonymous, text, asked_at FROM qa_questions WHERE webinar_id = ?");
    st.bind(1, webinar_id);
    while (st.step())
      out.push_back(mark_stored(question_frame(st.text(0), st.int64(1), st.text(2), st.int64(3) != 0, st.text(4), st.int64(5))));
  }
  {
    auto st = db.prepare("SELECT question_id, status FROM qa_status WHERE webinar_id = ?");
    st.bind(1, webinar_id);
    while (st.step()) out.push_back(mark_stored(status_frame(st.text(0), st.text(1))));
  }
  {
    auto st = db.prepare("SELECT question_id, registration_id, up, at FROM qa_votes WHERE webinar_id = ?");
    st.bind(1, webinar_id);
    while (st.step()) out.push_back(mark_stored(vote_frame(st.text(0), st.int64(1), st.int64(2) != 0, st.int64(3))));
  }
  {
    auto st = db.prepare("SELECT anonymous, anonymous_at, pinned, pinned_at FROM qa_settings WHERE webinar_id = ?");
    st.bind(1, webinar_id);
    if (st.step()) {
      if (st.int64(1) > 0) out.push_back(mark_stored(settings_frame(st.int64(0) != 0, st.int64(1))));
      if (st.int64(3) > 0) {
        std::optional<std::string> pinned;
        if (!st.is_null(2)) pinned = st.text(2);
        out.push_back(mark_stored(pin_frame(pinned, st.int64(3))));
      }
    }
  }
  return out;
}

void for_each_question(store::database& db, std::int64_t webinar_id, const std::function<void(const question_row&)>& visit) {
  auto st = db.prepare(
      "SELECT q.question_id, q.asker_id, q.asker_name, q.anonymous, q.text, q.asked_at, coalesce(s.status, 'open'),"
      " (SELECT count(*) FROM qa_votes v WHERE v.webinar_id = q.webinar_id AND v.question_id = q.question_id AND v.up = 1) AS votes"
      " FROM qa_questions q LEFT JOIN qa_status s ON s.webinar_id = q.webinar_id AND s.question_id = q.question_id"
      " WHERE q.webinar_id = ? ORDER BY votes DESC, q.asked_at, q.question_id");
  st.bind(1, webinar_id);
  while (st.step())
    visit(question_row{stored_question{st.text(0), st.int64(1), st.text(2), st.int64(3) != 0, st.text(4), st.int64(5)}, st.text(6), st.int64(7)});
}

}  // namespace cohort::live_room

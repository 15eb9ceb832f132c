#include "attendance/attendance_report.hpp"

#include "common/csv.hpp"
#include "common/errors.hpp"
#include "common/rfc3339.hpp"
#include "drops/schedule.hpp"
#include "registration/webinar_store.hpp"

#include <map>

namespace cohort::attendance {
namespace {

const registration::session_slot& pick_session(const registration::webinar& w, int number, std::int64_t now) {
  if (w.sessions.empty()) throw common::not_found("webinar " + std::to_string(w.id) + " has no sessions");
  if (number == 0) {
    const registration::session_slot* latest = &w.sessions.front();
    for (const auto& s : w.sessions)
      if (s.starts_at <= now) latest = &s;
    return *latest;
  }
  if (const auto* s = drops::find_session(w.sessions, number)) return *s;
  throw common::not_found("webinar " + std::to_string(w.id) + " has no session " + std::to_string(number));
}

struct seen {
  std::int64_t first = 0, last = 0, count = 0;
};

}  // namespace

report build_report(store::database& db, std::int64_t webinar_id, int session_number, int min_minutes, std::int64_t now) {
  const auto w = registration::find_webinar(db, webinar_id);
  if (!w) throw common::not_found("no webinar " + std::to_string(webinar_id));
  const auto& s = pick_session(*w, session_number, now);
  const auto [first, end] = drops::session_minutes(s);
  report r{webinar_id, s.number, s.starts_at, s.ends_at(), min_minutes, {}, {}};

  std::map<std::int64_t, seen> by_registrant;
  r.viewers.assign(static_cast<std::size_t>(std::max<std::int64_t>(0, end - first)), 0);
  auto minutes = db.prepare(
      "SELECT registration_id, minute FROM attendance WHERE webinar_id = ? AND minute >= ? AND minute < ? ORDER BY minute");
  minutes.bind(1, webinar_id).bind(2, first).bind(3, end);
  while (minutes.step()) {
    const auto id = minutes.int64(0), minute = minutes.int64(1);
    auto& x = by_registrant[id];
    if (x.count++ == 0) x.first = minute;
    x.last = minute;
    ++r.viewers[static_cast<std::size_t>(minute - first)];
  }

  // Polls: the session's polls past draft, and per registrant the ones answered before they closed.
  auto polls = db.prepare("SELECT count(*) FROM polls WHERE webinar_id = ? AND session = ? AND state <> 'draft'");
  polls.bind(1, webinar_id).bind(2, s.number);
  polls.step();
  r.polls = polls.int64(0);
  std::map<std::int64_t, std::int64_t> answered;
  auto answers = db.prepare(
      "SELECT a.registration_id, count(*) FROM poll_answers a JOIN polls p ON p.id = a.poll_id"
      " WHERE p.webinar_id = ? AND p.session = ? AND p.state <> 'draft' AND (p.closed_ms IS NULL OR a.answered_ms <= p.closed_ms)"
      " GROUP BY a.registration_id");
  answers.bind(1, webinar_id).bind(2, s.number);
  while (answers.step()) answered[answers.int64(0)] = answers.int64(1);

  auto people = db.prepare("SELECT id, name, email, status FROM registrations WHERE webinar_id = ? ORDER BY id");
  people.bind(1, webinar_id);
  while (people.step()) {
    registrant_row row{people.int64(0), people.text(1), people.text(2), people.text(3), {}, {}, 0, false, 0};
    if (const auto a = answered.find(row.registration_id); a != answered.end()) row.polls_answered = a->second;
    const auto it = by_registrant.find(row.registration_id);
    if (it == by_registrant.end()) {
      if (row.status == "cancelled") continue;  // gone before the session and never seen
    } else {
      row.joined_at = it->second.first * 60;
      row.left_at = (it->second.last + 1) * 60;
      row.minutes = it->second.count;
      row.attended = row.minutes >= min_minutes;
    }
    r.registrants.push_back(std::move(row));
  }
  return r;
}

std::string report_csv(const report& r) {
  std::string csv;
  common::append_csv_row(csv, {"registration_id", "name", "email", "status", "joined_at", "left_at", "minutes", "attended", "polls_answered"});
  auto time = [](const std::optional<std::int64_t>& t) { return t ? common::format_rfc3339(*t) : std::string(); };
  for (const auto& row : r.registrants)
    common::append_csv_row(csv, {std::to_string(row.registration_id), row.name, row.email, row.status, time(row.joined_at),
                                       time(row.left_at), std::to_string(row.minutes), row.attended ? "yes" : "no",
                                       std::to_string(row.polls_answered) + " of " + std::to_string(r.polls)});
  return csv;
}

}  // namespace cohort::attendance

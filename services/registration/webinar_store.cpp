#include "registration/webinar_store.hpp"

#include "common/errors.hpp"
#include "registration/registration_store.hpp"

#include <algorithm>

namespace cohort::registration {
namespace {

void number_by_time(std::vector<session_slot>& sessions) {
  std::stable_sort(sessions.begin(), sessions.end(),
                   [](const session_slot& a, const session_slot& b) { return a.starts_at < b.starts_at; });
  for (std::size_t i = 0; i < sessions.size(); ++i) sessions[i].number = static_cast<int>(i + 1);
}

void insert_sessions(store::database& db, std::int64_t webinar_id, std::vector<session_slot> sessions) {
  number_by_time(sessions);
  auto st = db.prepare("INSERT INTO sessions (webinar_id, number, starts_at, duration_minutes) VALUES (?, ?, ?, ?)");
  for (const auto& s : sessions) {
    st.bind(1, webinar_id).bind(2, s.number).bind(3, s.starts_at).bind(4, s.duration_minutes);
    st.run();
    st.reset();
  }
}

void load_sessions(store::database& db, webinar& w) {
  auto st = db.prepare("SELECT number, starts_at, duration_minutes FROM sessions WHERE webinar_id = ? ORDER BY number");
  st.bind(1, w.id);
  while (st.step())
    w.sessions.push_back(session_slot{static_cast<int>(st.int64(0)), st.int64(1), static_cast<int>(st.int64(2))});
}

constexpr const char* select_webinar =
    "SELECT w.id, w.title, w.description, w.capacity, w.created_at,"
    " w.registered_count, w.waitlisted_count"  // kept by triggers (migration 12), not counted per request
    " FROM webinars w";

webinar read_row(const store::statement& st) {
  webinar w;
  w.id = st.int64(0);
  w.title = st.text(1);
  w.description = st.text(2);
  w.capacity = st.optional_int64(3);
  w.created_at = st.int64(4);
  w.registered = st.int64(5);
  w.waitlisted = st.int64(6);
  return w;
}

}  // namespace

std::optional<std::int64_t> webinar::seats_left() const {
  if (!capacity) return std::nullopt;
  return std::max<std::int64_t>(0, *capacity - registered);
}

std::optional<std::int64_t> webinar::next_session_at(std::int64_t now) const {
  for (const auto& s : sessions)
    if (s.ends_at() > now) return s.starts_at;
  return std::nullopt;
}

std::int64_t create_webinar(store::database& db, webinar_input input, std::int64_t now) {
  // Above every id ever used, deleted ones included (see deleted_webinars).
  auto next = db.prepare(
      "SELECT max(coalesce((SELECT max(id) FROM webinars), 0), coalesce((SELECT max(id) FROM deleted_webinars), 0)) + 1");
  next.step();
  const auto id = next.int64(0);
  auto st = db.prepare("INSERT INTO webinars (id, title, description, capacity, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)");
  st.bind(1, id).bind(2, input.title).bind(3, input.description).bind(4, input.capacity).bind(5, now).bind(6, now);
  st.run();
  insert_sessions(db, id, std::move(input.sessions));
  return id;
}

std::optional<webinar> find_webinar(store::database& db, std::int64_t id) {
  auto st = db.prepare(std::string(select_webinar) + " WHERE w.id = ?");
  st.bind(1, id);
  if (!st.step()) return std::nullopt;
  auto w = read_row(st);
  load_sessions(db, w);
  return w;
}

std::vector<webinar> list_webinars(store::database& db, std::int64_t now) {
  std::vector<webinar> all;
  auto st = db.prepare(select_webinar);
  while (st.step()) all.push_back(read_row(st));
  for (auto& w : all) load_sessions(db, w);
  auto key = [now](const webinar& w) {
    const auto next = w.next_session_at(now);
    const auto last = w.sessions.empty() ? w.created_at : w.sessions.back().starts_at;
    // Upcoming sort ascending by next start; past ones after them, most recent first.
    return next ? std::pair<int, std::int64_t>{0, *next} : std::pair<int, std::int64_t>{1, -last};
  };
  std::stable_sort(all.begin(), all.end(), [&](const webinar& a, const webinar& b) { return key(a) < key(b); });
  return all;
}

void update_webinar(store::database& db, std::int64_t id, webinar_patch patch, std::int64_t now,
                    std::vector<std::int64_t>* promoted) {
  if (!find_webinar(db, id)) throw common::not_found("no webinar " + std::to_string(id));
  if (patch.title) db.prepare("UPDATE webinars SET title = ? WHERE id = ?").bind(1, *patch.title).bind(2, id).run();
  if (patch.description)
    db.prepare("UPDATE webinars SET description = ? WHERE id = ?").bind(1, *patch.description).bind(2, id).run();
  if (patch.capacity) db.prepare("UPDATE webinars SET capacity = ? WHERE id = ?").bind(1, *patch.capacity).bind(2, id).run();
  if (patch.sessions) {
    db.prepare("DELETE FROM sessions WHERE webinar_id = ?").bind(1, id).run();
    insert_sessions(db, id, std::move(*patch.sessions));
  }
  db.prepare("UPDATE webinars SET updated_at = ? WHERE id = ?").bind(1, now).bind(2, id).run();
  if (patch.capacity) {
    auto ids = promote_waitlisted(db, id, now);
    if (promoted) *promoted = std::move(ids);
  }
}

void delete_webinar(store::database& db, std::int64_t id, std::int64_t now) {
  // The largest registration id may go with this series: remember it, so it is not reused.
  auto largest = db.prepare("SELECT coalesce(max(id), 0) FROM registrations");
  largest.step();
  const auto registrations_max = largest.int64(0);
  db.prepare("DELETE FROM webinars WHERE id = ?").bind(1, id).run();
  if (db.changes() == 0) throw common::not_found("no webinar " + std::to_string(id));
  db.prepare("INSERT INTO deleted_webinars (id, registrations_max, deleted_at) VALUES (?, ?, ?)")
      .bind(1, id)
      .bind(2, registrations_max)
      .bind(3, now)
      .run();
}

std::int64_t count_webinars(store::database& db) {
  auto st = db.prepare("SELECT count(*) FROM webinars");
  st.step();
  return st.int64(0);
}

}  // namespace cohort::registration

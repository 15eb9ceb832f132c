#include "drops/drop_store.hpp"

#include "common/errors.hpp"
#include "common/rfc3339.hpp"
#include "live_room/channels/drops/drops_channel.hpp"
#include "registration/webinar_store.hpp"

#include <boost/json.hpp>

namespace cohort::drops {
namespace json = boost::json;
using common::format_rfc3339;

namespace {

constexpr const char* select_drop =
    "SELECT d.id, d.webinar_id, d.title, d.body, d.url, d.release_at, d.release_session, d.release_offset_minutes,"
    " d.audience, d.audience_session, d.file_sha256, d.file_name, d.file_type, d.file_size, d.released_at,"
    " d.audience_ids, d.created_at, (SELECT count(*) FROM drop_opens o WHERE o.drop_id = d.id) FROM drops d";

drop_record read_drop(const store::statement& st) {
  drop_record d;
  d.id = st.int64(0);
  d.webinar_id = st.int64(1);
  d.title = st.text(2);
  d.body = st.text(3);
  if (!st.is_null(4)) d.url = st.text(4);
  d.release.at = st.optional_int64(5);
  d.release.session = static_cast<int>(st.optional_int64(6).value_or(0));
  d.release.offset_minutes = static_cast<int>(st.optional_int64(7).value_or(0));
  d.audience = parse_audience(st.text(8)).value_or(audience_kind::all);
  if (auto s = st.optional_int64(9)) d.audience_session = static_cast<int>(*s);
  if (!st.is_null(10)) d.file = drop_file{st.text(10), st.text(11), st.text(12), st.int64(13)};
  d.released_at = st.optional_int64(14);
  if (!st.is_null(15)) d.audience_ids = st.text(15);
  d.created_at = st.int64(16);
  d.opened = st.int64(17);
  return d;
}

std::vector<registration::session_slot> sessions_of(store::database& db, std::int64_t webinar_id) {
  auto w = registration::find_webinar(db, webinar_id);
  if (!w) throw common::not_found("no such webinar");
  return w->sessions;
}

void fill_effective(drop_record& d, const std::vector<registration::session_slot>& sessions) {
  d.release_at = effective_release(d.release, sessions);
}

// The session an attended/missed drop is about: the one named, else the one it is released
// relative to (followed when the release moves to another session).
std::optional<int> audience_session_of(const drop_record& d) {
  if (d.audience_session) return d.audience_session;
  if (d.release.session) return d.release.session;
  return std::nullopt;
}

// The checks that need the series' sessions: the anchor exists, and an attended/missed drop is
// released no earlier than the session it is about starts (before that, everyone "missed" it).
void check_against_sessions(drop_record& d, const std::vector<registration::session_slot>& sessions) {
  if (d.release.session != 0 && !find_session(sessions, d.release.session))
    throw common::invalid("release", "the series has no session " + std::to_string(d.release.session));
  fill_effective(d, sessions);
  if (d.audience == audience_kind::all) {
    d.audience_session.reset();
    return;
  }
  const auto about = audience_session_of(d);
  if (!about) throw common::invalid("audience_session", "say which session the attended/missed audience is about");
  const auto* s = find_session(sessions, *about);
  if (!s) throw common::invalid("audience_session", "the series has no session " + std::to_string(*about));
  if (d.release_at && *d.release_at < s->starts_at)
    throw common::invalid("audience_session", "a drop for those who attended or missed session " +
                                                   std::to_string(s->number) + " cannot be released before it starts");
}

// A series edit that removed the anchor session leaves the drop with no release time: it would
// never release, so the organizer is told rather than left waiting.
bool orphaned(const drop_record& d) { return !d.released_at && d.release.session != 0 && !d.release_at; }

void require_unreleased(const drop_record& d) {
  if (d.released_at) throw common::conflict("this drop has been released; it can no longer change");
}

store::statement& bind_text(store::statement& st, int index, const std::optional<std::string>& v) {
  return v ? st.bind(index, std::string_view(*v)) : st.bind_null(index);
}

void write_columns(store::database& db, const drop_record& d, std::int64_t now) {
  auto st = db.prepare(
      "UPDATE drops SET title = ?, body = ?, url = ?, release_at = ?, release_session = ?, release_offset_minutes = ?,"
      " audience = ?, audience_session = ?, updated_at = ? WHERE id = ?");
  bind_text(st, 3, d.url);
  st.bind(1, d.title)
      .bind(2, d.body)
      .bind(4, d.release.at)
      .bind(5, d.release.session ? std::optional<std::int64_t>(d.release.session) : std::nullopt)
      .bind(6, d.release.session ? std::optional<std::int64_t>(d.release.offset_minutes) : std::nullopt)
      .bind(7, to_string(d.audience))
      .bind(8, d.audience_session ? std::optional<std::int64_t>(*d.audience_session) : std::nullopt)
      .bind(9, now)
      .bind(10, d.id)
      .run();
}

}  // namespace

std::int64_t insert_drop(store::database& db, std::int64_t webinar_id, const drop_input& in, std::int64_t now) {
  const auto sessions = sessions_of(db, webinar_id);
  drop_record d;
  d.title = in.title;
  d.body = in.body;
  d.url = in.url;
  d.release = in.release;
  d.audience = in.audience;
  d.audience_session = in.audience_session;
  check_against_sessions(d, sessions);
  // Inserted as an empty draft, then written by the same code as an update.
  db.prepare("INSERT INTO drops (webinar_id, title, created_at, updated_at) VALUES (?, '', ?, ?)")
      .bind(1, webinar_id)
      .bind(2, now)
      .bind(3, now)
      .run();
  d.id = db.last_insert_rowid();
  write_columns(db, d, now);
  return d.id;
}

void update_drop(store::database& db, std::int64_t webinar_id, std::int64_t drop_id, const drop_patch& p, std::int64_t now) {
  auto d = load_drop(db, webinar_id, drop_id);
  require_unreleased(d);
  if (p.title) d.title = *p.title;
  if (p.body) d.body = *p.body;
  if (p.url_set) d.url = p.url;
  if (p.release) d.release = *p.release;
  if (p.audience) d.audience = *p.audience;
  if (p.audience_session_set) d.audience_session = p.audience_session;
  check_against_sessions(d, sessions_of(db, webinar_id));
  write_columns(db, d, now);
}

void delete_drop(store::database& db, std::int64_t webinar_id, std::int64_t drop_id) {
  require_unreleased(load_drop(db, webinar_id, drop_id));
  db.prepare("DELETE FROM drops WHERE id = ?").bind(1, drop_id).run();
}

void set_file(store::database& db, std::int64_t webinar_id, std::int64_t drop_id, const drop_file& f, std::int64_t now) {
  require_unreleased(load_drop(db, webinar_id, drop_id));
  db.prepare("UPDATE drops SET file_sha256 = ?, file_name = ?, file_type = ?, file_size = ?, updated_at = ? WHERE id = ?")
      .bind(1, f.sha256)
      .bind(2, f.name)
      .bind(3, f.type)
      .bind(4, f.size)
      .bind(5, now)
      .bind(6, drop_id)
      .run();
}

std::optional<drop_record> find_drop(store::database& db, std::int64_t drop_id) {
  auto st = db.prepare(std::string(select_drop) + " WHERE d.id = ?");
  st.bind(1, drop_id);
  if (!st.step()) return std::nullopt;
  auto d = read_drop(st);
  if (auto w = registration::find_webinar(db, d.webinar_id)) fill_effective(d, w->sessions);
  return d;
}

drop_record load_drop(store::database& db, std::int64_t webinar_id, std::int64_t drop_id) {
  auto d = find_drop(db, drop_id);
  if (!d || d->webinar_id != webinar_id) throw common::not_found("no such drop in this webinar");
  return *d;
}

std::vector<drop_record> list_drops(store::database& db, std::int64_t webinar_id) {
  const auto sessions = sessions_of(db, webinar_id);
  auto st = db.prepare(std::string(select_drop) + " WHERE d.webinar_id = ? ORDER BY d.id");
  st.bind(1, webinar_id);
  std::vector<drop_record> out;
  while (st.step()) {
    out.push_back(read_drop(st));
    fill_effective(out.back(), sessions);
  }
  std::stable_sort(out.begin(), out.end(), [](const drop_record& a, const drop_record& b) {
    const auto ka = a.released_at ? a.released_at : a.release_at, kb = b.released_at ? b.released_at : b.release_at;
    if (!ka || !kb) return ka.has_value() && !kb.has_value();
    return *ka < *kb;
  });
  return out;
}

bool is_released_to(const drop_record& d, std::int64_t registration_id) {
  if (!d.released_at) return false;
  if (!d.audience_ids) return true;
  const auto ids = json::parse(*d.audience_ids).as_array();
  for (const auto& id : ids)
    if (id.to_number<std::int64_t>() == registration_id) return true;
  return false;
}

std::vector<drop_record> released_for(store::database& db, std::int64_t webinar_id, std::int64_t registration_id) {
  auto st = db.prepare(std::string(select_drop) +
                       " WHERE d.webinar_id = ? AND d.released_at IS NOT NULL AND (d.audience_ids IS NULL OR EXISTS"
                       " (SELECT 1 FROM json_each(d.audience_ids) WHERE value = ?)) ORDER BY d.released_at DESC, d.id DESC");
  st.bind(1, webinar_id).bind(2, registration_id);
  std::vector<drop_record> out;
  while (st.step()) out.push_back(read_drop(st));
  return out;
}

// Relative drops take their time from the session they hang on, so a moved session moves them.
static constexpr const char* effective_sql =
    "coalesce(d.release_at, (SELECT s.starts_at + d.release_offset_minutes * 60 FROM sessions s"
    " WHERE s.webinar_id = d.webinar_id AND s.number = d.release_session))";

std::optional<std::int64_t> next_due(store::database& db) {
  auto st = db.prepare(std::string("SELECT min(") + effective_sql + ") FROM drops d WHERE d.released_at IS NULL");
  if (!st.step()) return std::nullopt;
  return st.optional_int64(0);
}

std::vector<released_drop> release_due(store::database& db, std::int64_t now, int min_minutes, const release_hook& in_release) {
  std::vector<std::int64_t> due;
  {
    auto st = db.prepare(std::string("SELECT d.id FROM drops d WHERE d.released_at IS NULL AND ") + effective_sql +
                         " <= ? ORDER BY " + effective_sql + ", d.id");
    st.bind(1, now);
    while (st.step()) due.push_back(st.int64(0));
  }
  std::vector<released_drop> out;
  for (auto id : due) {
    auto d = *find_drop(db, id);
    std::optional<std::vector<std::int64_t>> audience;
    if (d.audience != audience_kind::all) {
      audience = audience_of(db, d.webinar_id, d.audience, audience_session_of(d).value_or(0), min_minutes);
      json::array ids;
      for (auto r : *audience) ids.push_back(r);
      d.audience_ids = json::serialize(ids);
    }
    auto st = db.prepare("UPDATE drops SET released_at = ?, audience_ids = ? WHERE id = ? AND released_at IS NULL");
    bind_text(st, 2, d.audience_ids);
    st.bind(1, now).bind(3, id).run();
    if (db.changes() == 0) continue;
    d.released_at = now;
    out.push_back(released_drop{d.webinar_id, d.id, drop_frame(d), d.title, d.body, std::move(audience)});
    if (in_release) in_release(db, out.back());
  }
  return out;
}

std::vector<std::string> state_frames(store::database& db, std::int64_t webinar_id) {
  std::vector<std::string> out;
  auto st = db.prepare(std::string(select_drop) + " WHERE d.webinar_id = ? AND d.released_at IS NOT NULL");
  st.bind(1, webinar_id);
  while (st.step()) out.push_back(drop_frame(read_drop(st)));
  auto seen = db.prepare("SELECT registration_id, seen_until FROM drop_seen WHERE webinar_id = ?");
  seen.bind(1, webinar_id);
  while (seen.step())
    out.push_back(json::serialize(json::object{{"type", "x.seen"}, {"registration_id", seen.int64(0)}, {"at", seen.int64(1)}}));
  return out;
}

std::int64_t mark_seen(store::database& db, std::int64_t webinar_id, std::int64_t registration_id, std::int64_t at) {
  db.prepare(
        "INSERT INTO drop_seen (webinar_id, registration_id, seen_until) VALUES (?, ?, ?)"
        " ON CONFLICT (webinar_id, registration_id) DO UPDATE SET seen_until = max(seen_until, excluded.seen_until)")
      .bind(1, webinar_id)
      .bind(2, registration_id)
      .bind(3, at)
      .run();
  return seen_until(db, webinar_id, registration_id);
}

std::int64_t seen_until(store::database& db, std::int64_t webinar_id, std::int64_t registration_id) {
  auto st = db.prepare("SELECT seen_until FROM drop_seen WHERE webinar_id = ? AND registration_id = ?");
  st.bind(1, webinar_id).bind(2, registration_id);
  return st.step() ? st.int64(0) : 0;
}

void mark_opened(store::database& db, std::int64_t drop_id, std::int64_t registration_id, std::int64_t now) {
  db.prepare("INSERT OR IGNORE INTO drop_opens (drop_id, registration_id, opened_at) VALUES (?, ?, ?)")
      .bind(1, drop_id)
      .bind(2, registration_id)
      .bind(3, now)
      .run();
}

void record_attendance(store::database& db, std::int64_t webinar_id, const std::vector<std::int64_t>& registration_ids,
                       std::int64_t minute) {
  auto& st = db.cached("INSERT OR IGNORE INTO attendance (webinar_id, registration_id, minute) VALUES (?, ?, ?)");
  for (auto id : registration_ids) {
    st.reset();
    st.bind(1, webinar_id).bind(2, id).bind(3, minute).run();
  }
}

std::vector<std::int64_t> audience_of(store::database& db, std::int64_t webinar_id, audience_kind kind, int session_number,
                                      int min_minutes) {
  std::vector<std::int64_t> registrants;
  auto reg = db.prepare("SELECT id FROM registrations WHERE webinar_id = ? AND status <> 'cancelled' ORDER BY id");
  reg.bind(1, webinar_id);
  while (reg.step()) registrants.push_back(reg.int64(0));
  std::unordered_map<std::int64_t, std::int64_t> minutes;
  const auto sessions = sessions_of(db, webinar_id);
  if (const auto* s = find_session(sessions, session_number)) {
    const auto [first, end] = session_minutes(*s);
    auto st = db.prepare(
        "SELECT registration_id, count(*) FROM attendance WHERE webinar_id = ? AND minute >= ? AND minute < ?"
        " GROUP BY registration_id");
    st.bind(1, webinar_id).bind(2, first).bind(3, end);
    while (st.step()) minutes[st.int64(0)] = st.int64(1);
  }
  return select_audience(kind, registrants, minutes, min_minutes);
}

json::object registrant_json(const drop_record& d) {
  json::object o{{"id", d.id}, {"title", d.title}, {"body", d.body}, {"url", nullptr}, {"file", nullptr},
                 {"released_at", d.released_at ? json::value(format_rfc3339(*d.released_at)) : json::value(nullptr)}};
  if (d.url) o["url"] = *d.url;
  if (d.file)
    o["file"] = json::object{{"name", d.file->name},
                             {"size", d.file->size},
                             {"content_type", d.file->type},
                             {"download", "/api/drops/" + std::to_string(d.id) + "/file"}};
  return o;
}

json::array drop_warnings(store::database& db, std::int64_t webinar_id) {
  json::array out;
  for (const auto& d : list_drops(db, webinar_id)) {
    if (!orphaned(d)) continue;
    out.push_back(json::object{{"code", "session_removed"},
                               {"drop_id", d.id},
                               {"title", d.title},
                               {"session", d.release.session},
                               {"message", "the drop \"" + d.title + "\" is released relative to session " +
                                               std::to_string(d.release.session) +
                                               ", which no longer exists; it will not be released until you move it"}});
  }
  return out;
}

json::object organizer_json(const drop_record& d) {
  auto o = registrant_json(d);
  o.erase("released_at");
  o["webinar_id"] = d.webinar_id;
  if (d.file) o["file"].as_object()["sha256"] = d.file->sha256;
  if (d.release.at)
    o["release"] = json::object{{"at", format_rfc3339(*d.release.at)}};
  else if (d.release.session)
    o["release"] = json::object{{"session", d.release.session}, {"offset_minutes", d.release.offset_minutes}};
  else
    o["release"] = nullptr;
  o["release_at"] = d.release_at ? json::value(format_rfc3339(*d.release_at)) : json::value(nullptr);
  o["audience"] = to_string(d.audience);
  const auto about = d.audience == audience_kind::all ? std::nullopt : audience_session_of(d);
  o["audience_session"] = about ? json::value(*about) : json::value(nullptr);
  o["state"] = d.released_at ? "released" : d.release.is_draft() ? "draft" : "scheduled";
  o["released_at"] = d.released_at ? json::value(format_rfc3339(*d.released_at)) : json::value(nullptr);
  o["opened"] = d.opened;
  o["created_at"] = format_rfc3339(d.created_at);
  o["warning"] = orphaned(d) ? json::value("session_removed") : json::value(nullptr);
  return o;
}

std::string drop_frame(const drop_record& d) {
  return live_room::drop_frame(registrant_json(d), d.audience_ids ? json::parse(*d.audience_ids) : json::value(nullptr));
}

}  // namespace cohort::drops

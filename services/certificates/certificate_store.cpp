#include "certificates/certificate_store.hpp"

#include "certificates/verification_code.hpp"
#include "common/csv.hpp"
#include "common/errors.hpp"
#include "common/rfc3339.hpp"
#include "common/time_zone.hpp"

#include <charconv>
#include <cmath>
#include <cstdio>

namespace cohort::certificates {
namespace {

constexpr const char* columns =
    "id, code, webinar_id, registration_id, session_number, kind, name, license_number, course_title, session_title,"
    " session_starts_at, contact_hours, ceus, provider_name, provider_number, approval_number, instructional_level, statement,"
    " score_percent, issued_at, revoked_at, revoked_reason, replaced_by, personal_erased_at, session_date";

// The statement wrapper has no double column: REALs are read through their text form, which
// SQLite writes exactly enough to read back.
double real_of(const store::statement& st, int column) {
  if (st.is_null(column)) return 0;
  const auto t = st.text(column);
  double v = 0;
  std::from_chars(t.data(), t.data() + t.size(), v);
  return v;
}

// Bound as text into a REAL column: the column's affinity stores it as a REAL.
std::string real_text(double v) {
  char buf[32];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, end);
}

double round2(double v) { return std::round(v * 100.0) / 100.0; }

// The calendar date of an instant in a zone ("YYYY-MM-DD"); UTC when the zone is unknown.
std::string date_in_zone(std::int64_t unix_seconds, const std::string& zone_name) {
  std::int64_t offset = 0;
  if (!zone_name.empty())
    if (auto zone = common::time_zone::find(zone_name)) offset = zone->at(unix_seconds).utc_offset_seconds;
  return common::format_rfc3339(unix_seconds + offset).substr(0, 10);
}

certificate row(const store::statement& st) {
  certificate c;
  c.id = st.int64(0);
  c.code = st.text(1);
  c.webinar_id = st.int64(2);
  c.registration_id = st.int64(3);
  c.session_number = static_cast<int>(st.int64(4));
  c.kind = st.text(5);
  c.name = st.text(6);
  c.license_number = st.text(7);
  c.course_title = st.text(8);
  c.session_title = st.text(9);
  c.session_starts_at = st.int64(10);
  c.contact_hours = real_of(st, 11);
  c.ceus = real_of(st, 12);
  c.provider_name = st.text(13);
  c.provider_number = st.text(14);
  c.approval_number = st.text(15);
  c.instructional_level = st.text(16);
  c.statement = st.text(17);
  c.score_percent = st.optional_int64(18);
  c.issued_at = st.int64(19);
  c.revoked_at = st.optional_int64(20);
  c.revoked_reason = st.is_null(21) ? "" : st.text(21);
  c.replaced_by = st.is_null(22) ? "" : st.text(22);
  c.personal_erased_at = st.optional_int64(23);
  c.session_date = st.text(24);
  if (c.session_date.empty()) c.session_date = common::format_rfc3339(c.session_starts_at).substr(0, 10);
  return c;
}

std::vector<certificate> rows(store::statement& st) {
  std::vector<certificate> out;
  while (st.step()) out.push_back(row(st));
  return out;
}

// The provider's facts (ce_series; no row: CE settings never saved, AOTA's 0.1 CEU per hour) and
// the session's (ce_sessions; no title: "Session N", no contact hours: the session's length).
void read_ce_settings(store::database& db, certificate& c, double length_hours) {
  double ceu_per_hour = 0.1;
  auto series = db.prepare(
      "SELECT ceu_per_hour, provider_name, provider_number, instructional_level, statement FROM ce_series WHERE webinar_id = ?");
  series.bind(1, c.webinar_id);
  if (series.step()) {
    ceu_per_hour = real_of(series, 0);
    c.provider_name = series.text(1);
    c.provider_number = series.text(2);
    c.instructional_level = series.text(3);
    c.statement = series.text(4);
  }
  c.contact_hours = length_hours;
  auto session = db.prepare("SELECT title, approval_number, contact_hours FROM ce_sessions WHERE webinar_id = ? AND session_number = ?");
  session.bind(1, c.webinar_id).bind(2, c.session_number);
  if (session.step()) {
    c.session_title = session.text(0);
    c.approval_number = session.text(1);
    if (!session.is_null(2)) c.contact_hours = real_of(session, 2);
  }
  if (c.session_title.empty()) c.session_title = "Session " + std::to_string(c.session_number);
  c.contact_hours = round2(c.contact_hours);
  c.ceus = round2(c.contact_hours * ceu_per_hour);
}

// Every printed fact as it stands now (the snapshot issue stores).
certificate read_facts(store::database& db, const issue_request& r) {
  certificate c;
  c.webinar_id = r.webinar_id;
  c.registration_id = r.registration_id;
  c.session_number = r.session_number;
  c.kind = r.kind;
  if (r.score_percent) c.score_percent = *r.score_percent;

  auto w = db.prepare("SELECT title FROM webinars WHERE id = ?");
  w.bind(1, r.webinar_id);
  if (!w.step()) throw common::not_found("no webinar " + std::to_string(r.webinar_id));
  c.course_title = w.text(0);

  auto s = db.prepare("SELECT starts_at, duration_minutes FROM sessions WHERE webinar_id = ? AND number = ?");
  s.bind(1, r.webinar_id).bind(2, r.session_number);
  if (!s.step()) throw common::not_found("webinar " + std::to_string(r.webinar_id) + " has no session " + std::to_string(r.session_number));
  c.session_starts_at = s.int64(0);
  const double length_hours = static_cast<double>(s.int64(1)) / 60.0;

  auto reg = db.prepare("SELECT name, time_zone FROM registrations WHERE id = ? AND webinar_id = ?");
  reg.bind(1, r.registration_id).bind(2, r.webinar_id);
  if (!reg.step()) throw common::not_found("no registration " + std::to_string(r.registration_id) + " in this webinar");
  c.name = reg.text(0);
  c.session_date = date_in_zone(c.session_starts_at, reg.text(1));

  read_ce_settings(db, c, length_hours);
  auto license = db.prepare(
      "SELECT a.value FROM registration_answers a JOIN registration_questions q ON q.id = a.question_id"
      " WHERE a.registration_id = ? AND q.webinar_id = ? AND q.key = 'license_number'");
  license.bind(1, r.registration_id).bind(2, r.webinar_id);
  if (license.step()) c.license_number = license.text(0);
  return c;
}

// 60 random bits: a collision is all but impossible, but the UNIQUE column is the judge.
std::string unused_code(store::database& db) {
  auto& exists = db.cached("SELECT 1 FROM ce_certificates WHERE code = ?");
  for (int attempt = 0; attempt < 8; ++attempt) {
    auto code = random_code();
    exists.bind(1, code);
    const bool taken = exists.step();
    exists.reset();
    if (!taken) return code;
  }
  throw std::runtime_error("could not draw an unused verification code");
}

std::optional<certificate> current_of(store::database& db, std::int64_t registration_id, int session_number) {
  auto st = db.prepare(std::string("SELECT ") + columns +
                       " FROM ce_certificates WHERE registration_id = ? AND session_number = ? AND revoked_at IS NULL ORDER BY id DESC LIMIT 1");
  st.bind(1, registration_id).bind(2, session_number);
  if (!st.step()) return std::nullopt;
  return row(st);
}

certificate insert(store::database& db, certificate c, std::int64_t now) {
  c.code = unused_code(db);
  c.issued_at = now;
  auto st = db.prepare(
      "INSERT INTO ce_certificates (code, webinar_id, registration_id, session_number, kind, name, license_number, course_title,"
      " session_title, session_starts_at, contact_hours, ceus, provider_name, provider_number, approval_number, instructional_level,"
      " statement, score_percent, issued_at, session_date) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  st.bind(1, c.code).bind(2, c.webinar_id).bind(3, c.registration_id).bind(4, c.session_number).bind(5, c.kind).bind(6, c.name);
  st.bind(7, c.license_number).bind(8, c.course_title).bind(9, c.session_title).bind(10, c.session_starts_at);
  st.bind(11, real_text(c.contact_hours)).bind(12, real_text(c.ceus)).bind(13, c.provider_name).bind(14, c.provider_number);
  st.bind(15, c.approval_number).bind(16, c.instructional_level).bind(17, c.statement);
  st.bind(18, c.score_percent).bind(19, now).bind(20, c.session_date);
  st.run();
  c.id = db.last_insert_rowid();
  return c;
}

certificate require(store::database& db, const std::string& code) {
  auto c = find_certificate(db, code);
  if (!c) throw common::not_found("no certificate " + code);
  return std::move(*c);
}

}  // namespace

issued issue(store::database& db, const issue_request& r, std::int64_t now, const issued_hook& on_issued) {
  if (r.kind != "live" && r.kind != "recorded") throw common::invalid("kind", "kind must be \"live\" or \"recorded\"");
  if (r.score_percent && (*r.score_percent < 0 || *r.score_percent > 100))
    throw common::invalid("score_percent", "score_percent must be between 0 and 100");
  if (auto held = current_of(db, r.registration_id, r.session_number)) return {std::move(*held), false};
  auto c = insert(db, read_facts(db, r), now);
  if (on_issued) on_issued(db, c, now);
  return {std::move(c), true};
}

certificate revoke(store::database& db, const std::string& code, const std::string& reason, std::int64_t now) {
  auto c = require(db, code);
  if (c.revoked()) throw common::conflict("certificate " + code + " is already revoked", "already_revoked");
  db.prepare("UPDATE ce_certificates SET revoked_at = ?, revoked_reason = ? WHERE id = ?").bind(1, now).bind(2, reason).bind(3, c.id).run();
  c.revoked_at = now;
  c.revoked_reason = reason;
  return c;
}

certificate reissue(store::database& db, const std::string& code, std::int64_t now, const issued_hook& on_issued) {
  const auto old = revoke(db, code, "re-issued", now);
  issue_request r{old.webinar_id, old.registration_id, old.session_number, old.kind, std::nullopt};
  if (old.score_percent) r.score_percent = static_cast<int>(*old.score_percent);
  auto fresh = issue(db, r, now, on_issued).cert;
  db.prepare("UPDATE ce_certificates SET replaced_by = ? WHERE id = ?").bind(1, fresh.code).bind(2, old.id).run();
  return fresh;
}

std::optional<certificate> find_certificate(store::database& db, const std::string& code) {
  auto st = db.prepare(std::string("SELECT ") + columns + " FROM ce_certificates WHERE code = ?");
  st.bind(1, code);
  if (!st.step()) return std::nullopt;
  return row(st);
}

std::vector<certificate> certificates_of(store::database& db, std::int64_t registration_id) {
  auto st = db.prepare(std::string("SELECT ") + columns + " FROM ce_certificates WHERE registration_id = ? ORDER BY session_number, id");
  st.bind(1, registration_id);
  return rows(st);
}

std::vector<certificate> certificates_of_series(store::database& db, std::int64_t webinar_id, int session_number) {
  auto st = db.prepare(std::string("SELECT ") + columns +
                       " FROM ce_certificates WHERE webinar_id = ? AND (? = 0 OR session_number = ?) ORDER BY session_number, id");
  st.bind(1, webinar_id).bind(2, session_number).bind(3, session_number);
  return rows(st);
}

std::string decimal_text(double value) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", round2(value));
  std::string s = buf;
  while (!s.empty() && s.back() == '0') s.pop_back();
  if (!s.empty() && s.back() == '.') s.pop_back();
  return s;
}

std::string certificates_csv(const std::vector<certificate>& list) {
  std::string csv;
  common::append_csv_row(csv, {"code", "session", "kind", "name", "license_number", "course_title", "session_title", "session_date",
                               "contact_hours", "ceus", "provider_name", "provider_number", "approval_number", "instructional_level",
                               "score_percent", "issued_at", "status", "revoked_at", "revoked_reason", "replaced_by", "registration_id"});
  auto time = [](const std::optional<std::int64_t>& t) { return t ? common::format_rfc3339(*t) : std::string(); };
  for (const auto& c : list)
    common::append_csv_row(csv, {c.code, std::to_string(c.session_number), c.kind, c.name, c.license_number, c.course_title,
                                 c.session_title, c.session_date, decimal_text(c.contact_hours),
                                 decimal_text(c.ceus), c.provider_name, c.provider_number, c.approval_number, c.instructional_level,
                                 c.score_percent ? std::to_string(*c.score_percent) : "", common::format_rfc3339(c.issued_at),
                                 c.revoked() ? "revoked" : "valid", time(c.revoked_at), c.revoked_reason, c.replaced_by,
                                 std::to_string(c.registration_id)});
  return csv;
}

}  // namespace cohort::certificates

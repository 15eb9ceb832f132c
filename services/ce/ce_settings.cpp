#include "ce/ce_settings.hpp"

#include "common/errors.hpp"
#include "common/rfc3339.hpp"
#include "common/text.hpp"
#include "drops/schedule.hpp"

#include <cmath>
#include <set>

namespace cohort::ce {
namespace json = boost::json;
using common::invalid;

rule settings::completion_rule() const {
  return {min_percent, live_credit, recorded_credit, test_required, pass_percent, attempts_max, evaluation_required, !attestation.empty()};
}

const session_settings* settings::session(int number) const {
  for (const auto& s : sessions)
    if (s.number == number) return &s;
  return nullptr;
}

namespace {

// REAL columns are read as SQLite's text of them: the statement wrapper has no double accessor.
double real(const store::statement& st, int column) { return std::stod(st.text(column)); }
std::string real_text(double x) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", x);
  return buf;
}

std::vector<std::string> parse_objectives_column(const std::string& text) {
  std::vector<std::string> out;
  boost::system::error_code ec;
  const auto v = json::parse(text, ec);
  if (ec || !v.is_array()) return out;
  for (const auto& item : v.get_array())
    if (item.is_string()) out.emplace_back(item.get_string());
  return out;
}

bool read_bool(const json::object& body, const char* key, bool fallback) {
  const auto* v = body.if_contains(key);
  if (!v || v->is_null()) return fallback;
  if (!v->is_bool()) throw invalid(key, std::string(key) + " must be true or false");
  return v->get_bool();
}

int read_int(const json::object& body, const char* key, int fallback, int lo, int hi) {
  const auto* v = body.if_contains(key);
  if (!v || v->is_null()) return fallback;
  std::int64_t n = 0;
  if (v->is_int64()) n = v->get_int64();
  else if (v->is_uint64() && v->get_uint64() <= 1'000'000) n = static_cast<std::int64_t>(v->get_uint64());
  else if (v->is_double() && std::floor(v->get_double()) == v->get_double() && std::abs(v->get_double()) < 1e6) n = static_cast<std::int64_t>(v->get_double());
  else throw invalid(key, std::string(key) + " must be a whole number from " + std::to_string(lo) + " to " + std::to_string(hi));
  if (n < lo || n > hi) throw invalid(key, std::string(key) + " must be from " + std::to_string(lo) + " to " + std::to_string(hi));
  return static_cast<int>(n);
}

std::optional<double> read_number(const json::value* v, const std::string& field, double lo_exclusive, double hi) {
  if (!v || v->is_null()) return std::nullopt;
  if (!v->is_number()) throw invalid(field, field + " must be a number");
  const double x = v->to_number<double>();
  if (!(x > lo_exclusive && x <= hi)) throw invalid(field, field + " must be more than " + real_text(lo_exclusive) + " and at most " + real_text(hi));
  return x;
}

std::string read_text(const json::value* v, const std::string& field, std::size_t max_chars, bool newlines = false) {
  if (!v || v->is_null()) return {};
  if (!v->is_string()) throw invalid(field, field + " must be a string");
  return common::optional_text(v->get_string(), field, max_chars, newlines);
}

std::string read_text(const json::object& body, const char* key, std::size_t max_chars, bool newlines = false) {
  return read_text(body.if_contains(key), key, max_chars, newlines);
}

const std::set<std::string>& known_keys() {
  static const std::set<std::string> keys{
      "offered", "ceu_per_hour", "provider_name", "provider_number", "instructional_level", "objectives", "statement",
      "live_credit", "recorded_credit", "min_percent", "test_required", "pass_percent", "attempts_max", "shuffle",
      "evaluation_required", "attestation", "sessions",
      "webinar_id", "updated_at"};  // read-only members of the GET document: a round-trip may send them back
  return keys;
}

session_settings read_session(const json::value& v, std::size_t i, const std::vector<registration::session_slot>& slots) {
  const auto at = "sessions[" + std::to_string(i) + "]";
  if (!v.is_object()) throw invalid(at, at + " must be an object");
  const auto& o = v.get_object();
  for (const auto& [k, _] : o)
    if (k != "number" && k != "title" && k != "approval_number" && k != "contact_hours" && k != "starts_at" &&
        k != "duration_minutes" && k != "ceus")
      throw invalid(at + "." + std::string(k), "unknown member " + std::string(k));
  session_settings s;
  const auto* number = o.if_contains("number");
  if (!number || !number->is_int64()) throw invalid(at + ".number", "each session needs its number (1, 2, ...)");
  const auto n = number->get_int64();
  if (n < 1 || n > 1000 || !drops::find_session(slots, static_cast<int>(n)))
    throw invalid(at + ".number", "this series has no session " + std::to_string(n));
  s.number = static_cast<int>(n);
  s.title = read_text(o.if_contains("title"), at + ".title", 200);
  s.approval_number = read_text(o.if_contains("approval_number"), at + ".approval_number", 100);
  s.contact_hours = read_number(o.if_contains("contact_hours"), at + ".contact_hours", 0, 24);
  return s;
}

}  // namespace

settings load_settings(store::database& db, std::int64_t webinar_id) {
  auto exists = db.prepare("SELECT 1 FROM webinars WHERE id = ?");
  exists.bind(1, webinar_id);
  if (!exists.step()) throw common::not_found("no webinar " + std::to_string(webinar_id));
  settings s;
  auto st = db.prepare(
      "SELECT offered, ceu_per_hour, provider_name, provider_number, instructional_level, objectives, statement,"
      " live_credit, recorded_credit, min_percent, test_required, pass_percent, attempts_max, shuffle,"
      " evaluation_required, attestation FROM ce_series WHERE webinar_id = ?");
  st.bind(1, webinar_id);
  if (st.step()) {
    s.offered = st.int64(0) != 0;
    s.ceu_per_hour = real(st, 1);
    s.provider_name = st.text(2);
    s.provider_number = st.text(3);
    s.instructional_level = st.text(4);
    s.objectives = parse_objectives_column(st.text(5));
    s.statement = st.text(6);
    s.live_credit = st.int64(7) != 0;
    s.recorded_credit = st.int64(8) != 0;
    s.min_percent = static_cast<int>(st.int64(9));
    s.test_required = st.int64(10) != 0;
    s.pass_percent = static_cast<int>(st.int64(11));
    s.attempts_max = static_cast<int>(st.int64(12));
    s.shuffle = st.int64(13) != 0;
    s.evaluation_required = st.int64(14) != 0;
    s.attestation = st.text(15);
  }
  auto rows = db.prepare(
      "SELECT session_number, title, approval_number, contact_hours FROM ce_sessions WHERE webinar_id = ? ORDER BY session_number");
  rows.bind(1, webinar_id);
  while (rows.step()) {
    session_settings ss{static_cast<int>(rows.int64(0)), rows.text(1), rows.text(2), std::nullopt};
    if (!rows.is_null(3)) ss.contact_hours = real(rows, 3);
    s.sessions.push_back(std::move(ss));
  }
  return s;
}

settings parse_settings(const json::object& body, const std::vector<registration::session_slot>& slots) {
  for (const auto& [k, _] : body)
    if (!known_keys().count(std::string(k))) {
      // A member named "" is named as JSON spells it: an empty field would name nothing.
      const std::string name = k.empty() ? std::string("\"\"") : std::string(k);
      throw invalid(name, "unknown member " + name);
    }
  settings s;
  s.offered = read_bool(body, "offered", false);
  if (const auto x = read_number(body.if_contains("ceu_per_hour"), "ceu_per_hour", 0, 10)) s.ceu_per_hour = *x;
  s.provider_name = read_text(body, "provider_name", 200);
  s.provider_number = read_text(body, "provider_number", 100);
  s.instructional_level = read_text(body, "instructional_level", 100);
  if (const auto* v = body.if_contains("objectives"); v && !v->is_null()) {
    if (!v->is_array()) throw invalid("objectives", "objectives must be an array of strings");
    if (v->get_array().size() > 20) throw invalid("objectives", "at most 20 objectives");
    std::size_t i = 0;
    for (const auto& item : v->get_array()) {
      auto text = read_text(&item, "objectives[" + std::to_string(i++) + "]", 500);
      if (!text.empty()) s.objectives.push_back(std::move(text));
    }
  }
  s.statement = read_text(body, "statement", 4000, true);
  s.live_credit = read_bool(body, "live_credit", true);
  s.recorded_credit = read_bool(body, "recorded_credit", false);
  s.min_percent = read_int(body, "min_percent", 85, 1, 100);
  s.test_required = read_bool(body, "test_required", true);
  s.pass_percent = read_int(body, "pass_percent", 80, 1, 100);
  s.attempts_max = read_int(body, "attempts_max", 3, 1, 20);
  s.shuffle = read_bool(body, "shuffle", true);
  s.evaluation_required = read_bool(body, "evaluation_required", false);
  s.attestation = read_text(body, "attestation", 1000, true);
  if (s.offered && !s.live_credit && !s.recorded_credit)
    throw invalid("live_credit", "a series that offers CE grants live credit, recorded credit or both");
  if (const auto* v = body.if_contains("sessions"); v && !v->is_null()) {
    if (!v->is_array()) throw invalid("sessions", "sessions must be an array");
    std::size_t i = 0;
    for (const auto& item : v->get_array()) {
      auto ss = read_session(item, i, slots);
      if (s.session(ss.number)) throw invalid("sessions[" + std::to_string(i) + "].number", "session " + std::to_string(ss.number) + " is listed twice");
      s.sessions.push_back(std::move(ss));
      ++i;
    }
  }
  return s;
}

void save_settings(store::database& db, std::int64_t webinar_id, const settings& s, std::int64_t now) {
  auto exists = db.prepare("SELECT 1 FROM webinars WHERE id = ?");
  exists.bind(1, webinar_id);
  if (!exists.step()) throw common::not_found("no webinar " + std::to_string(webinar_id));
  json::array objectives;
  for (const auto& o : s.objectives) objectives.emplace_back(o);
  auto st = db.prepare(
      "INSERT INTO ce_series (webinar_id, offered, ceu_per_hour, provider_name, provider_number, instructional_level, objectives,"
      " statement, live_credit, recorded_credit, min_percent, test_required, pass_percent, attempts_max, shuffle,"
      " evaluation_required, attestation, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)"
      " ON CONFLICT (webinar_id) DO UPDATE SET offered = ?2, ceu_per_hour = ?3, provider_name = ?4, provider_number = ?5,"
      " instructional_level = ?6, objectives = ?7, statement = ?8, live_credit = ?9, recorded_credit = ?10, min_percent = ?11,"
      " test_required = ?12, pass_percent = ?13, attempts_max = ?14, shuffle = ?15, evaluation_required = ?16,"
      " attestation = ?17, updated_at = ?18");
  st.bind(1, webinar_id).bind(2, s.offered ? 1 : 0).bind(3, real_text(s.ceu_per_hour)).bind(4, s.provider_name);
  st.bind(5, s.provider_number).bind(6, s.instructional_level).bind(7, json::serialize(objectives)).bind(8, s.statement);
  st.bind(9, s.live_credit ? 1 : 0).bind(10, s.recorded_credit ? 1 : 0).bind(11, s.min_percent).bind(12, s.test_required ? 1 : 0);
  st.bind(13, s.pass_percent).bind(14, s.attempts_max).bind(15, s.shuffle ? 1 : 0).bind(16, s.evaluation_required ? 1 : 0);
  st.bind(17, s.attestation).bind(18, now);
  st.run();
  auto clear = db.prepare("DELETE FROM ce_sessions WHERE webinar_id = ?");
  clear.bind(1, webinar_id).run();
  auto row = db.prepare("INSERT INTO ce_sessions (webinar_id, session_number, title, approval_number, contact_hours) VALUES (?, ?, ?, ?, ?)");
  for (const auto& ss : s.sessions) {
    row.reset();
    row.bind(1, webinar_id).bind(2, ss.number).bind(3, ss.title).bind(4, ss.approval_number);
    // Bound as text: the column's REAL affinity stores the number.
    if (ss.contact_hours) row.bind(5, real_text(*ss.contact_hours));
    else row.bind_null(5);
    row.run();
  }
}

double round2(double x) { return std::round(x * 100.0) / 100.0; }

double contact_hours(const settings& s, const registration::session_slot& slot) {
  if (const auto* ss = s.session(slot.number); ss && ss->contact_hours) return *ss->contact_hours;
  return slot.duration_minutes / 60.0;
}

double ceus(const settings& s, double hours) { return round2(hours * s.ceu_per_hour); }

namespace {

json::array objectives_json(const settings& s) {
  json::array out;
  for (const auto& o : s.objectives) out.emplace_back(o);
  return out;
}

}  // namespace

json::object settings_json(const settings& s, const registration::webinar& w) {
  json::array sessions;
  for (const auto& slot : w.sessions) {
    const auto* ss = s.session(slot.number);
    sessions.push_back(json::object{
        {"number", slot.number},
        {"title", ss ? ss->title : std::string()},
        {"approval_number", ss ? ss->approval_number : std::string()},
        {"contact_hours", ss && ss->contact_hours ? json::value(*ss->contact_hours) : json::value(nullptr)},
        {"starts_at", common::format_rfc3339(slot.starts_at)},
        {"duration_minutes", slot.duration_minutes},
        {"ceus", ceus(s, contact_hours(s, slot))}});
  }
  return {{"webinar_id", w.id},
          {"offered", s.offered},
          {"ceu_per_hour", s.ceu_per_hour},
          {"provider_name", s.provider_name},
          {"provider_number", s.provider_number},
          {"instructional_level", s.instructional_level},
          {"objectives", objectives_json(s)},
          {"statement", s.statement},
          {"live_credit", s.live_credit},
          {"recorded_credit", s.recorded_credit},
          {"min_percent", s.min_percent},
          {"test_required", s.test_required},
          {"pass_percent", s.pass_percent},
          {"attempts_max", s.attempts_max},
          {"shuffle", s.shuffle},
          {"evaluation_required", s.evaluation_required},
          {"attestation", s.attestation},
          {"sessions", std::move(sessions)}};
}

json::object summary_json(const settings& s, const registration::webinar& w) {
  if (!s.offered) return {{"webinar_id", w.id}, {"offered", false}};
  json::array sessions;
  double hours = 0;
  for (const auto& slot : w.sessions) {
    const auto* ss = s.session(slot.number);
    const double h = contact_hours(s, slot);
    hours += h;
    sessions.push_back(json::object{{"number", slot.number},
                                    {"title", ss ? ss->title : std::string()},
                                    {"approval_number", ss ? ss->approval_number : std::string()},
                                    {"starts_at", common::format_rfc3339(slot.starts_at)},
                                    {"duration_minutes", slot.duration_minutes},
                                    {"contact_hours", round2(h)},
                                    {"ceus", ceus(s, h)}});
  }
  return {{"webinar_id", w.id},
          {"offered", true},
          {"provider", json::object{{"name", s.provider_name}, {"number", s.provider_number}}},
          {"instructional_level", s.instructional_level},
          {"objectives", objectives_json(s)},
          {"live_credit", s.live_credit},
          {"recorded_credit", s.recorded_credit},
          {"min_percent", s.min_percent},
          {"ceu_per_hour", s.ceu_per_hour},
          {"total_contact_hours", round2(hours)},
          {"total_ceus", ceus(s, hours)},
          {"sessions", std::move(sessions)}};
}

}  // namespace cohort::ce

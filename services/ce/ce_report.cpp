#include "ce/ce_report.hpp"

#include "common/csv.hpp"
#include "common/errors.hpp"
#include "common/rfc3339.hpp"
#include "drops/schedule.hpp"

#include <cstdio>

namespace cohort::ce {
namespace json = boost::json;

namespace {

struct person {
  std::int64_t id = 0;
  std::string name, email, status;
};

std::vector<person> people_of(store::database& db, std::int64_t webinar_id) {
  std::vector<person> out;
  auto st = db.prepare(
      "SELECT id, name, email, status FROM registrations r WHERE webinar_id = ?1 AND (status <> 'cancelled'"
      " OR EXISTS (SELECT 1 FROM attendance a WHERE a.webinar_id = ?1 AND a.registration_id = r.id)) ORDER BY id");
  st.bind(1, webinar_id);
  while (st.step()) out.push_back({st.int64(0), st.text(1), st.text(2), st.text(3)});
  return out;
}

void read_answers(store::database& db, report_row& row) {
  auto& st = db.cached(
      "SELECT q.key, a.value FROM registration_answers a JOIN registration_questions q ON q.id = a.question_id"
      " WHERE a.registration_id = ? AND q.key IN ('license_number', 'discipline', 'state')");
  st.bind(1, row.registration_id);
  while (st.step()) {
    const auto key = st.text(0);
    (key == "license_number" ? row.license_number : key == "discipline" ? row.discipline : row.region) = st.text(1);
  }
  st.reset();
}

std::string number_text(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", x);
  return buf;
}

bool earned(const report_row& row) {
  return row.progress_state == state::complete || (row.certificate && !row.certificate->revoked_at);
}

}  // namespace

report build_report(store::database& db, std::int64_t webinar_id, int session_number, std::int64_t now) {
  const auto w = registration::find_webinar(db, webinar_id);
  if (!w) throw common::not_found("no webinar " + std::to_string(webinar_id));
  std::vector<registration::session_slot> slots;
  if (session_number == 0) slots = w->sessions;
  else if (const auto* s = drops::find_session(w->sessions, session_number)) slots.push_back(*s);
  else throw common::not_found("webinar " + std::to_string(webinar_id) + " has no session " + std::to_string(session_number));

  const auto ce = load_settings(db, webinar_id);
  const auto rule = ce.completion_rule();
  report r{webinar_id, w->title, session_number, ce.offered, {}, {}};
  for (const auto& who : people_of(db, webinar_id)) {
    registrant_total total{who.id, 0, 0, 0};
    report_row base;
    base.registration_id = who.id;
    base.name = who.name;
    base.email = who.email;
    base.status = who.status;
    read_answers(db, base);
    for (const auto& slot : slots) {
      auto row = base;
      const auto f = load_facts(db, webinar_id, who.id, slot, now);
      const auto p = evaluate(rule, f);
      row.session_number = slot.number;
      row.minutes = f.live_minutes;
      row.replay_percent = p.replay_percent;
      row.best_score = f.best_score;
      row.attempts = f.attempts_used;
      row.evaluation_submitted = f.evaluation_submitted;
      row.attested = f.attested;
      row.progress_state = p.where;
      row.kind = p.kind;
      row.contact_hours = round2(contact_hours(ce, slot));
      row.ceus = ceus(ce, contact_hours(ce, slot));
      row.certificate = find_certificate(db, who.id, slot.number);
      if (earned(row)) {
        ++total.sessions_complete;
        total.contact_hours += row.contact_hours;
        total.ceus += row.ceus;
      }
      r.rows.push_back(std::move(row));
    }
    total.contact_hours = round2(total.contact_hours);
    total.ceus = round2(total.ceus);
    r.totals.push_back(total);
  }
  return r;
}

json::object report_json(const report& r) {
  json::array rows;
  for (const auto& row : r.rows) {
    const auto& c = row.certificate;
    rows.push_back(json::object{
        {"registration_id", row.registration_id},
        {"name", row.name},
        {"email", row.email},
        {"status", row.status},
        {"license_number", row.license_number},
        {"discipline", row.discipline},
        {"state", row.region},
        {"session", row.session_number},
        {"minutes", row.minutes},
        {"replay_percent", row.replay_percent},
        {"best_score", row.best_score ? json::value(*row.best_score) : json::value(nullptr)},
        {"attempts", row.attempts},
        {"evaluation_submitted", row.evaluation_submitted},
        {"attested", row.attested},
        {"progress", to_string(row.progress_state)},
        {"kind", to_string(row.kind)},
        {"contact_hours", row.contact_hours},
        {"ceus", row.ceus},
        {"certificate",
         c ? json::value(json::object{{"code", c->code},
                                      {"kind", c->kind},
                                      {"issued_at", common::format_rfc3339(c->issued_at)},
                                      {"revoked", c->revoked_at.has_value()}})
           : json::value(nullptr)}});
  }
  json::array totals;
  for (const auto& t : r.totals)
    totals.push_back(json::object{{"registration_id", t.registration_id},
                                  {"sessions_complete", t.sessions_complete},
                                  {"contact_hours", t.contact_hours},
                                  {"ceus", t.ceus}});
  return {{"webinar_id", r.webinar_id},
          {"title", r.title},
          {"offered", r.offered},
          {"session", r.session_number == 0 ? json::value(nullptr) : json::value(r.session_number)},
          {"rows", std::move(rows)},
          {"totals", std::move(totals)}};
}

std::string report_csv(const report& r) {
  std::string csv;
  common::append_csv_row(csv, {"registration_id", "name", "email", "license_number", "discipline", "state", "session", "minutes",
                               "replay_percent", "best_score", "attempts", "evaluation_submitted", "attested", "progress", "kind",
                               "contact_hours", "ceus", "certificate_code", "issued_at", "revoked"});
  for (const auto& row : r.rows) {
    const auto& c = row.certificate;
    common::append_csv_row(csv, {std::to_string(row.registration_id), row.name, row.email, row.license_number, row.discipline,
                                 row.region, std::to_string(row.session_number), std::to_string(row.minutes),
                                 std::to_string(row.replay_percent), row.best_score ? std::to_string(*row.best_score) : std::string(),
                                 std::to_string(row.attempts), row.evaluation_submitted ? "yes" : "no", row.attested ? "yes" : "no",
                                 std::string(to_string(row.progress_state)), std::string(to_string(row.kind)),
                                 number_text(row.contact_hours), number_text(row.ceus), c ? c->code : std::string(),
                                 c ? common::format_rfc3339(c->issued_at) : std::string(), c && c->revoked_at ? "yes" : "no"});
  }
  return csv;
}

}  // namespace cohort::ce

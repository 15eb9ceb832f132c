#include "privacy/privacy_export.hpp"

#include "common/errors.hpp"
#include "common/rfc3339.hpp"

#include <boost/json.hpp>

#include <memory>
#include <string_view>

namespace cohort::privacy {
namespace json = boost::json;

namespace {

struct section {
  const char* key;    // in the document
  const char* table;  // what it covers (exported_tables)
  const char* sql;    // ?1 = registration id, ?2 = webinar id
};

// One entry per table that holds a registration id. Columns named *_at are unix seconds and
// come out as RFC 3339; `answers` and `choices` hold JSON and come out as JSON.
constexpr section sections[] = {
    {"answers", "registration_answers",
     "SELECT q.key, q.label, a.value FROM registration_answers a JOIN registration_questions q ON q.id = a.question_id "
     "WHERE a.registration_id = ?1 ORDER BY q.position, q.id"},
    {"attendance", "attendance",
     "SELECT s.number AS session, s.starts_at AS session_starts_at, s.duration_minutes, "
     "(SELECT count(*) FROM attendance a WHERE a.webinar_id = s.webinar_id AND a.registration_id = ?1 "
     "   AND a.minute * 60 >= s.starts_at AND a.minute * 60 < s.starts_at + 60 * s.duration_minutes) AS minutes "
     "FROM sessions s WHERE s.webinar_id = ?2 ORDER BY s.number"},
    {"replay_views", "replay_views",
     "SELECT v.recording_id, r.session_number AS session, count(*) AS segments, r.segments AS of_segments, "
     "min(v.first_at) AS first_at FROM replay_views v LEFT JOIN recordings r ON r.id = v.recording_id "
     "WHERE v.registration_id = ?1 GROUP BY v.recording_id ORDER BY v.recording_id"},
    {"chat_messages", "chat_messages",
     "SELECT message_id, sent_at, from_name AS name, text, deleted FROM chat_messages "
     "WHERE webinar_id = ?2 AND from_id = ?1 AND role = 'registrant' ORDER BY seq"},
    {"chat_bans", "chat_bans", "SELECT created_at FROM chat_bans WHERE webinar_id = ?2 AND registration_id = ?1"},
    {"chat_mutes", "chat_mutes", "SELECT until AS until_at FROM chat_mutes WHERE webinar_id = ?2 AND registration_id = ?1"},
    {"qa_questions", "qa_questions",
     "SELECT q.question_id, q.asked_at, q.asker_name AS name, q.anonymous, q.text, s.status FROM qa_questions q "
     "LEFT JOIN qa_status s ON s.webinar_id = q.webinar_id AND s.question_id = q.question_id "
     "WHERE q.webinar_id = ?2 AND q.asker_id = ?1 ORDER BY q.asked_at"},
    {"qa_votes", "qa_votes",
     "SELECT question_id, up, at AS at_ms FROM qa_votes WHERE webinar_id = ?2 AND registration_id = ?1 ORDER BY at"},
    {"poll_answers", "poll_answers",
     "SELECT a.poll_id, p.session, p.question, p.options, a.choices, a.answered_ms FROM poll_answers a "
     "JOIN polls p ON p.id = a.poll_id WHERE a.registration_id = ?1 ORDER BY a.answered_ms"},
    {"drop_opens", "drop_opens",
     "SELECT o.drop_id, d.title, o.opened_at FROM drop_opens o JOIN drops d ON d.id = o.drop_id "
     "WHERE o.registration_id = ?1 ORDER BY o.opened_at"},
    {"drop_seen", "drop_seen", "SELECT seen_until AS seen_until_at FROM drop_seen WHERE webinar_id = ?2 AND registration_id = ?1"},
    {"email_prefs", "email_prefs",
     "SELECT unsubscribed_at, drop_notices, updated_at FROM email_prefs WHERE registration_id = ?1"},
    {"join_link", "registration_links",
     "SELECT 'kept sealed (encrypted) so reminders can carry your join link' AS stored FROM registration_links "
     "WHERE registration_id = ?1"},
    {"ce_attempts", "ce_attempts",
     "SELECT id, session_number AS session, started_at, submitted_at, answers, score_percent, passed FROM ce_attempts "
     "WHERE registration_id = ?1 ORDER BY id"},
    {"ce_evaluations", "ce_evaluations",
     "SELECT session_number AS session, answers, submitted_at FROM ce_evaluations WHERE registration_id = ?1 "
     "ORDER BY session_number"},
    {"ce_attestations", "ce_attestations",
     "SELECT session_number AS session, attested_at FROM ce_attestations WHERE registration_id = ?1 ORDER BY session_number"},
    {"ce_certificates", "ce_certificates",
     "SELECT code, session_number AS session, kind, name, license_number, course_title, session_title, session_starts_at, "
     "contact_hours, ceus, provider_name, provider_number, approval_number, instructional_level, score_percent, issued_at, "
     "revoked_at, revoked_reason, replaced_by, personal_erased_at FROM ce_certificates WHERE registration_id = ?1 ORDER BY id"},
    {"mail", "outbox",
     "SELECT kind, subject, to_addr AS 'to', state, created_at, sent_at FROM outbox WHERE registration_id = ?1 ORDER BY id"},
    {"erasures", "erasures", "SELECT reason, erased_at FROM erasures WHERE registration_id = ?1 ORDER BY id"},
};

struct finalizer {
  void operator()(sqlite3_stmt* s) const noexcept { sqlite3_finalize(s); }
};

bool ends_with(std::string_view s, std::string_view tail) {
  return s.size() >= tail.size() && s.substr(s.size() - tail.size()) == tail;
}

json::value column_value(sqlite3_stmt* st, int i) {
  const std::string_view name = sqlite3_column_name(st, i);
  switch (sqlite3_column_type(st, i)) {
    case SQLITE_NULL: return nullptr;
    case SQLITE_INTEGER: {
      const auto v = static_cast<std::int64_t>(sqlite3_column_int64(st, i));
      if (ends_with(name, "_at")) return json::string(common::format_rfc3339(v));
      return v;
    }
    case SQLITE_FLOAT: return sqlite3_column_double(st, i);
    default: {
      const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(st, i));
      std::string_view text(p ? p : "", static_cast<std::size_t>(sqlite3_column_bytes(st, i)));
      if (name == "answers" || name == "choices" || name == "options") {
        boost::system::error_code ec;
        auto parsed = json::parse(text, ec);
        if (!ec) return parsed;
      }
      return json::string(text);
    }
  }
}

// Every row of sql as an object keyed by column name (the sections differ too much in shape
// for typed rows to pay off, and a new column shows up without code).
json::array rows(store::database& db, const char* sql, std::int64_t registration_id, std::int64_t webinar_id) {
  sqlite3_stmt* raw = nullptr;
  db.check(sqlite3_prepare_v2(db.handle(), sql, -1, &raw, nullptr));
  std::unique_ptr<sqlite3_stmt, finalizer> st(raw);
  sqlite3_bind_int64(raw, 1, registration_id);
  if (sqlite3_bind_parameter_count(raw) >= 2) sqlite3_bind_int64(raw, 2, webinar_id);
  json::array out;
  int rc;
  while ((rc = sqlite3_step(raw)) == SQLITE_ROW) {
    json::object row;
    for (int i = 0; i < sqlite3_column_count(raw); ++i) row[sqlite3_column_name(raw, i)] = column_value(raw, i);
    out.push_back(std::move(row));
  }
  db.check(rc);
  return out;
}

json::value time_or_null(const std::optional<std::int64_t>& t) {
  return t ? json::value(common::format_rfc3339(*t)) : json::value(nullptr);
}

}  // namespace

const std::vector<std::string>& exported_tables() {
  static const std::vector<std::string> tables = [] {
    std::vector<std::string> t{"registrations"};
    for (const auto& s : sections) t.emplace_back(s.table);
    return t;
  }();
  return tables;
}

json::object export_registration(store::database& db, std::int64_t webinar_id, std::int64_t registration_id, std::int64_t now) {
  auto st = db.prepare(
      "SELECT r.webinar_id, w.title, r.name, r.email, r.status, r.profession, r.time_zone, r.created_at, r.confirm_by, "
      "r.promoted_at, r.erased_at FROM registrations r JOIN webinars w ON w.id = r.webinar_id WHERE r.id = ?");
  st.bind(1, registration_id);
  if (!st.step() || (webinar_id != 0 && st.int64(0) != webinar_id))
    throw common::not_found("there is no registration " + std::to_string(registration_id) +
                            (webinar_id ? " in webinar " + std::to_string(webinar_id) : std::string()));
  const auto webinar = st.int64(0);
  json::object registration{{"id", registration_id},
                            {"webinar_id", webinar},
                            {"webinar_title", st.text(1)},
                            {"name", st.text(2)},
                            {"email", st.text(3)},
                            {"status", st.text(4)},
                            {"profession", st.text(5)},
                            {"time_zone", st.text(6)},
                            {"created_at", common::format_rfc3339(st.int64(7))},
                            {"confirmed", st.is_null(8)},
                            {"promoted_at", time_or_null(st.optional_int64(9))},
                            {"erased_at", time_or_null(st.optional_int64(10))}};
  json::object doc{{"exported_at", common::format_rfc3339(now)}, {"registration", std::move(registration)}};
  for (const auto& s : sections) doc[s.key] = rows(db, s.sql, registration_id, webinar);
  return doc;
}

}  // namespace cohort::privacy

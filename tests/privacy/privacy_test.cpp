#include "privacy/privacy_erasure.hpp"

#include "common/errors.hpp"
#include "gateway/auth.hpp"
#include "privacy/privacy_export.hpp"
#include "privacy/privacy_notice.hpp"
#include "privacy/retention_sweep.hpp"
#include "registration/registration_store.hpp"
#include "registration/validation.hpp"
#include "registration/webinar_store.hpp"
#include "store/migrations.hpp"

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include <algorithm>
#include <set>

using namespace cohort::privacy;
using cohort::registration::session_slot;
using cohort::store::database;

namespace {

constexpr std::int64_t t0 = 1768471200;  // 2026-01-15T10:00:00Z
constexpr std::int64_t day = 86400;

struct fixture {
  database db{":memory:"};
  cohort::http::token_codec tokens{"privacy-test-secret-0123456789abcdef"};
  std::int64_t webinar = 0;

  explicit fixture(std::optional<std::int64_t> capacity = std::nullopt) {
    cohort::store::migrate(db);
    cohort::registration::webinar_input in;
    in.title = "Series";
    in.capacity = capacity;
    in.sessions = {session_slot{0, t0 + day, 60}};
    webinar = cohort::registration::create_webinar(db, std::move(in), t0);
  }
  cohort::registration::signup_outcome signup(const std::string& email) {
    cohort::registration::signup_input in;
    in.name = "Person " + email;
    in.email = email;
    in.email_key = *cohort::registration::email_key(email);
    in.profession = "OT";
    return cohort::registration::create_signup(db, webinar, in, tokens, t0);
  }
  std::string text(const std::string& sql, std::int64_t id) {
    auto st = db.prepare(sql);
    st.bind(1, id);
    REQUIRE(st.step());
    return st.text(0);
  }
  std::int64_t number(const std::string& sql, std::int64_t id) {
    auto st = db.prepare(sql);
    st.bind(1, id);
    REQUIRE(st.step());
    return st.int64(0);
  }
};

}  // namespace

TEST_CASE("the export covers every table of the schema that holds a registration id", "[privacy]") {
  database db{":memory:"};
  cohort::store::migrate(db);
  // Columns that name a registration under another name.
  const std::set<std::pair<std::string, std::string>> aliases{{"chat_messages", "from_id"}, {"qa_questions", "asker_id"}};
  std::set<std::string> holding{"registrations"};
  auto tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'");
  while (tables.step()) {
    const auto table = tables.text(0);
    auto columns = db.prepare("SELECT name FROM pragma_table_info(?)");
    columns.bind(1, table);
    while (columns.step())
      if (columns.text(0) == "registration_id" || aliases.count({table, columns.text(0)})) holding.insert(table);
  }
  const auto& exported = exported_tables();
  for (const auto& table : holding) {
    INFO("the schema's table " << table << " holds a registration id; the export must cover it");
    CHECK(std::count(exported.begin(), exported.end(), table) == 1);
  }
  CHECK(holding.size() >= 20);
}

TEST_CASE("the export has the registration and its rows, never a test's correct answers", "[privacy]") {
  fixture f;
  const auto me = f.signup("maya@example.org");
  f.db.exec("INSERT INTO ce_questions (webinar_id, session_number, position, kind, prompt, options, correct) VALUES (" +
            std::to_string(f.webinar) + ", 1, 1, 'single', 'Q?', '[\"a\",\"b\"]', '[1]')");
  f.db.exec("INSERT INTO ce_attempts (webinar_id, registration_id, session_number, started_at, shown, submitted_at, answers, "
            "score_percent, passed) VALUES (" + std::to_string(f.webinar) + ", " + std::to_string(me.id) +
            ", 1, 1768560000, '[]', 1768560060, '{\"1\":[0]}', 0, 0)");
  f.db.exec("INSERT INTO attendance (webinar_id, registration_id, minute) VALUES (" + std::to_string(f.webinar) + ", " +
            std::to_string(me.id) + ", " + std::to_string((t0 + day) / 60 + 3) + ")");
  const auto doc = export_registration(f.db, f.webinar, me.id, t0 + 2 * day);
  CHECK(doc.at("registration").at("email").as_string() == "maya@example.org");
  CHECK(doc.at("registration").at("created_at").as_string() == "2026-01-15T10:00:00Z");
  CHECK(doc.at("attendance").as_array().at(0).at("minutes").as_int64() == 1);
  const auto& attempt = doc.at("ce_attempts").as_array().at(0).as_object();
  CHECK(attempt.at("score_percent").as_int64() == 0);
  CHECK(attempt.at("answers").at("1").as_array().at(0).as_int64() == 0);
  CHECK(boost::json::serialize(doc).find("correct") == std::string::npos);
  CHECK(boost::json::serialize(doc).find("token") == std::string::npos);
  CHECK_THROWS_AS(export_registration(f.db, f.webinar + 1, me.id, t0), cohort::common::not_found);
}

TEST_CASE("erasure keeps the row for counts, clears what is personal, frees the seat, and is idempotent", "[privacy]") {
  fixture f(1);
  const auto seated = f.signup("seated@example.org");
  const auto waiting = f.signup("waiting@example.org");
  REQUIRE(waiting.status == "waitlisted");
  const auto w = std::to_string(f.webinar), id = std::to_string(seated.id);
  f.db.exec("INSERT INTO chat_messages (webinar_id, message_id, seq, sent_at, from_id, from_name, role, text) VALUES (" + w +
            ", 'm1', 1, 1, " + id + ", 'Person', 'registrant', 'my phone is 555')");
  f.db.exec("INSERT INTO outbox (message_id, dedupe_key, kind, webinar_id, registration_id, to_addr, subject, mime, next_attempt_at, "
            "created_at, args) VALUES ('<x@y>', 'k1', 'reminder', " + w + ", " + id + ", 'seated@example.org', 'Soon', '', 0, 0, '{\"a\":1}')");
  f.db.exec("INSERT INTO ce_certificates (code, webinar_id, registration_id, session_number, kind, name, course_title, "
            "session_starts_at, contact_hours, ceus, issued_at) VALUES ('C1', " + w + ", " + id + ", 1, 'live', 'Person', 'Series', 0, 1, 0.1, 0)");

  const auto e = erase_registration(f.db, f.webinar, seated.id, reason::organizer, t0 + 5, nullptr);
  CHECK(e.was_active);
  CHECK(e.seated.size() == 1);
  CHECK(f.text("SELECT name FROM registrations WHERE id = ?", seated.id) == "Erased registrant");
  CHECK(f.text("SELECT email FROM registrations WHERE id = ?", seated.id).find('@') == std::string::npos);
  CHECK(f.text("SELECT status FROM registrations WHERE id = ?", seated.id) == "cancelled");
  CHECK(f.text("SELECT status FROM registrations WHERE id = ?", waiting.id) == "registered");
  CHECK(f.text("SELECT from_name || '|' || text FROM chat_messages WHERE from_id = ?", seated.id) == "[erased]|[erased]");
  CHECK(f.text("SELECT state || '|' || last_error || '|' || to_addr || '|' || args FROM outbox WHERE registration_id = ?", seated.id) ==
        "failed|erased||{}");
  CHECK(f.text("SELECT name FROM ce_certificates WHERE registration_id = ?", seated.id) == "Person");
  CHECK(f.number("SELECT count(*) FROM erasures WHERE registration_id = ?", seated.id) == 1);
  CHECK_FALSE(cohort::registration::find_by_token(f.db, seated.id, seated.token_nonce_hash));

  const auto again = erase_registration(f.db, f.webinar, seated.id, reason::organizer, t0 + 50, nullptr);
  CHECK(again.already);
  CHECK(again.erased_at == t0 + 5);
  CHECK(f.number("SELECT count(*) FROM erasures WHERE registration_id = ?", seated.id) == 1);
  CHECK_THROWS_AS(erase_registration(f.db, f.webinar + 1, waiting.id, reason::organizer, t0, nullptr), cohort::common::not_found);
}

TEST_CASE("retention erases a series past its period once, and leaves a recent one alone", "[privacy]") {
  fixture f;
  const auto a = f.signup("a@example.org");
  f.signup("b@example.org");
  const auto end = t0 + day + 3600;
  CHECK(next_expired_series(f.db, end + 29 * day, 30) == 0);
  CHECK(next_expired_series(f.db, end + 40 * day, 0) == 0);
  REQUIRE(next_expired_series(f.db, end + 31 * day, 30) == f.webinar);
  auto first = erase_expired_batch(f.db, f.webinar, 0, end + 31 * day, 1);
  CHECK(first.erased == 1);
  auto second = erase_expired_batch(f.db, f.webinar, first.erasure_row, end + 31 * day, 1);
  CHECK(second.erasure_row == first.erasure_row);
  CHECK(f.number("SELECT rows FROM erasures WHERE id = ?", first.erasure_row) == 2);
  CHECK(f.text("SELECT reason FROM erasures WHERE id = ?", first.erasure_row) == "retention");
  CHECK(next_expired_series(f.db, end + 32 * day, 30) == 0);
  CHECK(f.text("SELECT name FROM registrations WHERE id = ?", a.id) == "Erased registrant");
}

TEST_CASE("the records policy clears an old certificate's personal fields once", "[privacy]") {
  fixture f;
  const auto w = std::to_string(f.webinar);
  for (const auto& [code, issued] : {std::pair{"OLD", t0 - 7 * 366 * day}, std::pair{"NEW", t0 - 5 * 365 * day}})
    f.db.exec("INSERT INTO ce_certificates (code, webinar_id, registration_id, session_number, kind, name, license_number, course_title, "
              "session_starts_at, contact_hours, ceus, issued_at) VALUES ('" + std::string(code) + "', " + w +
              ", 1, 1, 'live', 'Maya', 'OT-1', 'Series', 0, 1, 0.1, " + std::to_string(issued) + ")");
  CHECK(clear_expired_certificates(f.db, t0, 6, 10).cleared == 1);
  CHECK(clear_expired_certificates(f.db, t0, 6, 10).cleared == 0);
  auto st = f.db.prepare("SELECT code, name, license_number, personal_erased_at IS NOT NULL FROM ce_certificates ORDER BY code");
  REQUIRE(st.step());
  CHECK(st.text(0) == "NEW");
  CHECK(st.text(1) == "Maya");
  REQUIRE(st.step());
  CHECK(st.text(1).empty());
  CHECK(st.text(2).empty());
  CHECK(st.int64(3) == 1);
  CHECK(f.number("SELECT count(*) FROM erasures WHERE reason = 'records_policy' AND rows = ?", 1) == 1);
}

TEST_CASE("the notice defaults from the configuration and round-trips the organizer's text", "[privacy]") {
  fixture f;
  CHECK_THAT(default_notice(30, 6), Catch::Contains("30 days after the series' last session"));
  CHECK_THAT(default_notice(0, 6), Catch::Contains("until the organizer deletes the series"));
  CHECK_THAT(default_notice(0, 1), Catch::Contains("1 year after"));
  CHECK_FALSE(read_notice(f.db, f.webinar, 0, 6).custom);
  write_notice(f.db, f.webinar, "  Our own notice.\nSecond line.  ");
  CHECK(read_notice(f.db, f.webinar, 0, 6).text == "Our own notice.\nSecond line.");
  CHECK_THROWS_AS(write_notice(f.db, f.webinar, std::string(4001, 'x')), cohort::common::invalid);
  CHECK_NOTHROW(write_notice(f.db, f.webinar, std::string(4000, 'x')));
  write_notice(f.db, f.webinar, "");
  CHECK_FALSE(read_notice(f.db, f.webinar, 0, 6).custom);
  CHECK_THROWS_AS(read_notice(f.db, f.webinar + 9, 0, 6), cohort::common::not_found);
}

#include "ce/ce_facts.hpp"

#include "../store/temp_database_file.hpp"
#include "ce/ce_report.hpp"
#include "ce/credit.hpp"
#include "ce/my_ce.hpp"
#include "common/errors.hpp"
#include "drops/drop_store.hpp"
#include "gateway/auth.hpp"
#include "registration/registration_store.hpp"
#include "registration/validation.hpp"
#include "store/migrations.hpp"

#include <catch2/catch.hpp>

using namespace cohort::ce;
using cohort::registration::session_slot;
using cohort::store::database;

namespace {

constexpr std::int64_t t0 = 1768471200;  // 2026-01-15T10:00:00Z, a whole minute
constexpr std::int64_t day = 86400;
constexpr std::int64_t s1 = t0 + day;  // session 1: 60 minutes

struct fixture {
  cohort::test::temp_database_file file;
  database db{file.path()};
  cohort::http::token_codec tokens{"ce-test-secret-0123456789abcdef0123"};
  std::int64_t webinar = 0;

  fixture() {
    cohort::store::migrate(db);
    cohort::registration::webinar_input in;
    in.title = "Sensory integration";
    in.sessions = {session_slot{0, s1, 60}, session_slot{0, t0 + 8 * day, 60}};
    webinar = cohort::registration::create_webinar(db, std::move(in), t0);
  }
  std::int64_t signup(const std::string& email) {
    cohort::registration::signup_input in;
    in.name = "Person " + email;
    in.email = email;
    in.email_key = *cohort::registration::email_key(email);
    return cohort::registration::create_signup(db, webinar, in, tokens, t0).id;
  }
  void present(std::int64_t id, std::int64_t from_minute, std::int64_t count, std::int64_t session_start = s1) {
    for (std::int64_t m = 0; m < count; ++m) cohort::drops::record_attendance(db, webinar, {id}, session_start / 60 + from_minute + m);
  }
  void offer(const std::string& json_body) {
    const auto w = cohort::registration::find_webinar(db, webinar);
    save_settings(db, webinar, parse_settings(boost::json::parse(json_body).as_object(), w->sessions), t0);
  }
  session_facts facts(std::int64_t id, int session, std::int64_t now = t0 + 30 * day) {
    const auto w = cohort::registration::find_webinar(db, webinar);
    return load_facts(db, webinar, id, w->sessions.at(static_cast<std::size_t>(session - 1)), now);
  }
};

}  // namespace

TEST_CASE("live minutes are distinct minutes inside the current window: a rejoin counts once", "[ce]") {
  fixture f;
  const auto id = f.signup("maya@example.org");
  f.present(id, 0, 30);
  f.present(id, 20, 20);  // left and rejoined: minutes 20..29 again, then 30..39
  f.present(id, -3, 3);   // before the start: not the session's
  f.present(id, 60, 5);   // after the end
  CHECK(f.facts(id, 1).live_minutes == 40);
}

TEST_CASE("a moved session counts only the minutes inside its new window", "[ce]") {
  fixture f;
  const auto id = f.signup("noor@example.org");
  f.present(id, 0, 60);
  f.offer(R"({"offered": true, "test_required": false})");
  CHECK(load_standing(f.db, f.webinar, id, 1, t0 + 30 * day).where.where == state::complete);

  // The organizer moves session 1 half an hour later: only 30 of the minutes fall inside it.
  cohort::registration::webinar_patch patch;
  patch.sessions = std::vector<session_slot>{session_slot{0, s1 + 1800, 60}, session_slot{0, t0 + 8 * day, 60}};
  cohort::registration::update_webinar(f.db, f.webinar, patch, t0);
  const auto moved = load_standing(f.db, f.webinar, id, 1, t0 + 30 * day);
  CHECK(moved.facts.live_minutes == 30);
  CHECK(moved.where.where == state::in_progress);
  CHECK(moved.where.kind == credit_kind::none);
}

TEST_CASE("replay share, attempts, evaluation and attestation are read from their tables", "[ce]") {
  fixture f;
  const auto id = f.signup("ana@example.org");
  const auto other = f.signup("other@example.org");
  f.db.exec("INSERT INTO recordings (id, webinar_id, session_number, started_at, ended_at, segments, dir) VALUES"
            " (1, " + std::to_string(f.webinar) + ", 1, 0, 10, 10, 'a'), (2, " + std::to_string(f.webinar) + ", 1, 0, NULL, 50, 'b'),"
            " (3, " + std::to_string(f.webinar) + ", 2, 0, 10, 10, 'c')");
  auto view = f.db.prepare("INSERT INTO replay_views (recording_id, registration_id, segment, webinar_id, first_at) VALUES (?, ?, ?, ?, 0)");
  for (int seg : {0, 1, 2, 3}) view.bind(1, 1).bind(2, id).bind(3, seg).bind(4, f.webinar).run(), view.reset();
  view.bind(1, 2).bind(2, id).bind(3, 0).bind(4, f.webinar).run(), view.reset();       // a live recording: not counted
  view.bind(1, 3).bind(2, id).bind(3, 0).bind(4, f.webinar).run(), view.reset();       // another session
  view.bind(1, 1).bind(2, other).bind(3, 9).bind(4, f.webinar).run(), view.reset();    // someone else
  const auto w = std::to_string(f.webinar);
  f.db.exec("INSERT INTO ce_questions (webinar_id, session_number, position, kind, prompt, options, correct) VALUES (" + w +
            ", 1, 1, 'single', 'Q', '[\"a\",\"b\"]', '[0]')");
  f.db.exec("INSERT INTO ce_attempts (webinar_id, registration_id, session_number, started_at, shown, submitted_at, score_percent, passed) VALUES"
            " (" + w + ", " + std::to_string(id) + ", 1, 0, '[]', 1, 50, 0), (" + w + ", " + std::to_string(id) + ", 1, 0, '[]', 2, 90, 1),"
            " (" + w + ", " + std::to_string(id) + ", 1, 0, '[]', NULL, NULL, NULL)");
  f.db.exec("INSERT INTO ce_evaluation_items (webinar_id, session_number, position, kind, prompt) VALUES (" + w + ", NULL, 1, 'scale', 'Useful?')");
  f.db.exec("INSERT INTO ce_attestations VALUES (" + w + ", " + std::to_string(id) + ", 1, 5)");

  const auto x = f.facts(id, 1);
  CHECK(x.replay_segments_seen == 4);
  CHECK(x.replay_segments_total == 10);
  CHECK(x.questions == 1);
  CHECK(x.attempts_used == 2);  // the open attempt is not used up yet
  CHECK(x.test_passed);
  CHECK(x.best_score == 90);
  CHECK(x.best_passing_score == 90);
  CHECK(x.evaluation_items == 1);  // a series-wide item
  CHECK_FALSE(x.evaluation_submitted);
  CHECK(x.attested);
  const auto y = f.facts(id, 2);
  CHECK(y.replay_segments_seen == 1);
  CHECK(y.questions == 0);
  CHECK_FALSE(y.attested);
}

TEST_CASE("settle calls the credit hooks once per earned session and never over a certificate", "[ce]") {
  fixture f;
  const auto id = f.signup("lee@example.org");
  const auto half = f.signup("half@example.org");
  f.present(id, 0, 51);
  f.present(half, 0, 30);
  std::vector<credit> seen;
  credit_hooks hooks{[&](database& db, const credit& c, std::int64_t now) {
    seen.push_back(c);
    auto st = db.prepare(
        "INSERT INTO ce_certificates (code, webinar_id, registration_id, session_number, kind, name, course_title, session_starts_at,"
        " contact_hours, ceus, issued_at) VALUES (?, ?, ?, ?, ?, 'n', 't', 0, 1, 0.1, ?)");
    st.bind(1, "CODE" + std::to_string(c.registration_id)).bind(2, c.webinar_id).bind(3, c.registration_id).bind(4, c.session_number);
    st.bind(5, c.kind).bind(6, now).run();
  }};
  const auto later = t0 + 30 * day;

  CHECK_FALSE(settle(f.db, hooks, f.webinar, id, 1, later));  // CE not offered yet
  f.offer(R"({"offered": true, "test_required": false})");
  CHECK_FALSE(settle(f.db, hooks, f.webinar, id, 1, s1 + 600));  // not ended yet
  CHECK_FALSE(settle(f.db, hooks, f.webinar, half, 1, later));   // 30 of 60 minutes
  const auto c = settle(f.db, hooks, f.webinar, id, 1, later);
  REQUIRE(c);
  CHECK(c->kind == "live");
  CHECK_FALSE(c->score_percent);
  REQUIRE(seen.size() == 1);
  CHECK(seen[0].registration_id == id);
  CHECK_FALSE(settle(f.db, hooks, f.webinar, id, 1, later));  // a certificate exists now
  CHECK(seen.size() == 1);
  CHECK_FALSE(settle(f.db, hooks, f.webinar, id, 7, later));  // no such session
  CHECK_FALSE(settle(f.db, hooks, f.webinar, 999999, 1, later));

  // My CE shows the certificate and asks nothing more to be settled.
  const auto me = build_my_ce(f.db, f.webinar, id, later);
  CHECK(me.to_settle.empty());
  const auto& first = me.body.at("sessions").as_array().at(0).as_object();
  CHECK(first.at("certificate").at("code").as_string() == "CODE" + std::to_string(id));
  CHECK(first.at("certificate").at("pdf").as_string() == "/api/me/certificates/CODE" + std::to_string(id) + ".pdf");
}

TEST_CASE("settings: defaults, round trip, and validation naming the field", "[ce]") {
  fixture f;
  const auto defaults = load_settings(f.db, f.webinar);
  CHECK_FALSE(defaults.offered);
  CHECK(defaults.min_percent == 85);
  CHECK(defaults.pass_percent == 80);
  CHECK(defaults.attempts_max == 3);
  CHECK(defaults.ceu_per_hour == Approx(0.1));
  CHECK_THROWS_AS(load_settings(f.db, 99999), cohort::common::not_found);

  f.offer(R"({"offered": true, "ceu_per_hour": 0.1, "provider_name": "Cohort OT", "objectives": ["One", "Two"],
              "min_percent": 90, "attestation": "I attended", "sessions": [{"number": 2, "title": "Part 2", "contact_hours": 1.5,
              "approval_number": "A-2"}]})");
  const auto s = load_settings(f.db, f.webinar);
  CHECK(s.offered);
  CHECK(s.provider_name == "Cohort OT");
  CHECK(s.objectives == std::vector<std::string>{"One", "Two"});
  CHECK(s.min_percent == 90);
  REQUIRE(s.sessions.size() == 1);
  CHECK(*s.sessions[0].contact_hours == Approx(1.5));
  const auto w = cohort::registration::find_webinar(f.db, f.webinar);
  CHECK(contact_hours(s, w->sessions[0]) == Approx(1.0));
  CHECK(ceus(s, contact_hours(s, w->sessions[1])) == Approx(0.15));

  auto bad = [&](const std::string& body) {
    try {
      parse_settings(boost::json::parse(body).as_object(), w->sessions);
    } catch (const cohort::common::invalid& e) {
      return e.field;
    }
    return std::string("(accepted)");
  };
  CHECK(bad(R"({"min_percent": 0})") == "min_percent");
  CHECK(bad(R"({"min_percent": 101})") == "min_percent");
  CHECK(bad(R"({"pass_percent": "80"})") == "pass_percent");
  CHECK(bad(R"({"attempts_max": 0})") == "attempts_max");
  CHECK(bad(R"({"offered": 1})") == "offered");
  CHECK(bad(R"({"ceu_per_hour": 0})") == "ceu_per_hour");
  CHECK(bad(R"({"objectives": "x"})") == "objectives");
  CHECK(bad(R"({"provider_name": ")" + std::string(201, 'x') + R"("})") == "provider_name");
  CHECK(bad(R"({"sessions": [{"number": 3}]})") == "sessions[0].number");
  CHECK(bad(R"({"sessions": [{"number": 1}, {"number": 1}]})") == "sessions[1].number");
  CHECK(bad(R"({"sessions": [{"number": 1, "contact_hours": -1}]})") == "sessions[0].contact_hours");
  CHECK(bad(R"({"min_precent": 80})") == "min_precent");
  CHECK(bad(R"({"offered": true, "live_credit": false})") == "live_credit");
  CHECK(bad(R"({"offered": true, "min_percent": 100, "webinar_id": 5})") == "(accepted)");
}

TEST_CASE("the report lists registrants by session with license answers and totals", "[ce]") {
  fixture f;
  const auto id = f.signup("lic@example.org");
  f.signup("none@example.org");
  f.present(id, 0, 60);
  f.offer(R"({"offered": true, "test_required": false})");
  const auto w = std::to_string(f.webinar);
  f.db.exec("INSERT INTO registration_questions (id, webinar_id, position, key, label, kind) VALUES (1, " + w +
            ", 1, 'license_number', 'License', 'text'), (2, " + w + ", 2, 'discipline', 'Discipline', 'choice')");
  f.db.exec("INSERT INTO registration_answers VALUES (" + std::to_string(id) + ", 1, 'OT-12345'), (" + std::to_string(id) + ", 2, 'OT')");

  const auto r = build_report(f.db, f.webinar, 0, t0 + 30 * day);
  REQUIRE(r.rows.size() == 4);  // 2 registrants x 2 sessions
  CHECK(r.rows[0].license_number == "OT-12345");
  CHECK(r.rows[0].discipline == "OT");
  CHECK(r.rows[0].progress_state == state::complete);
  CHECK(r.rows[1].progress_state == state::in_progress);
  REQUIRE(r.totals.size() == 2);
  CHECK(r.totals[0].contact_hours == Approx(1.0));
  CHECK(r.totals[0].ceus == Approx(0.1));
  CHECK(r.totals[1].sessions_complete == 0);
  CHECK(build_report(f.db, f.webinar, 2, t0 + 30 * day).rows.size() == 2);
  CHECK_THROWS_AS(build_report(f.db, f.webinar, 3, t0), cohort::common::not_found);
  const auto csv = report_csv(r);
  CHECK(csv.find("\"OT-12345\"") != std::string::npos);
  CHECK(csv.find("\"1.00\",\"0.10\"") != std::string::npos);
}

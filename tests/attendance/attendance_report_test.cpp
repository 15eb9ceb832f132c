#include "attendance/attendance_report.hpp"

#include "../store/temp_database_file.hpp"
#include "common/errors.hpp"
#include "drops/drop_store.hpp"
#include "gateway/auth.hpp"
#include "registration/registration_store.hpp"
#include "registration/validation.hpp"
#include "registration/webinar_store.hpp"
#include "store/migrations.hpp"

#include <catch2/catch.hpp>

using namespace cohort::attendance;
using cohort::registration::session_slot;
using cohort::store::database;

namespace {

constexpr std::int64_t t0 = 1768471200;  // 2026-01-15T10:00:00Z, a whole minute
constexpr std::int64_t day = 86400;

struct fixture {
  cohort::test::temp_database_file file;
  database db{file.path()};
  cohort::http::token_codec tokens{"attendance-test-secret-0123456789abcdef"};
  std::int64_t webinar = 0;

  fixture() {
    cohort::store::migrate(db);
    cohort::registration::webinar_input in;
    in.title = "Series";
    in.sessions = {session_slot{0, t0 + day, 30}, session_slot{0, t0 + 8 * day, 30}};
    webinar = cohort::registration::create_webinar(db, std::move(in), t0);
  }
  std::int64_t signup(const std::string& email) {
    cohort::registration::signup_input in;
    in.name = "Person " + email;
    in.email = email;
    in.email_key = *cohort::registration::email_key(email);
    return cohort::registration::create_signup(db, webinar, in, tokens, t0).id;
  }
  void present(std::int64_t id, std::int64_t from_minute, std::int64_t count, std::int64_t session_start = t0 + day) {
    for (std::int64_t m = 0; m < count; ++m)
      cohort::drops::record_attendance(db, webinar, {id}, session_start / 60 + from_minute + m);
  }
};

}  // namespace

TEST_CASE("the report gives each registrant's join, leave, minutes and attended", "[attendance]") {
  fixture f;
  const auto stayed = f.signup("stayed@example.org");
  const auto dropped_in = f.signup("brief@example.org");
  const auto absent = f.signup("absent@example.org");
  f.present(stayed, 0, 20);
  f.present(dropped_in, 10, 2);
  cohort::drops::record_attendance(f.db, f.webinar, {absent}, (t0 + day) / 60 - 5);  // before the session: not counted

  const auto r = build_report(f.db, f.webinar, 1, 5, t0 + 2 * day);
  CHECK(r.session_number == 1);
  CHECK(r.starts_at == t0 + day);
  CHECK(r.ends_at == t0 + day + 30 * 60);
  REQUIRE(r.registrants.size() == 3);
  const auto& a = r.registrants[0];
  CHECK(a.registration_id == stayed);
  CHECK(a.joined_at == t0 + day);
  CHECK(a.left_at == t0 + day + 20 * 60);
  CHECK(a.minutes == 20);
  CHECK(a.attended);
  const auto& b = r.registrants[1];
  CHECK(b.minutes == 2);
  CHECK(b.joined_at == t0 + day + 600);
  CHECK_FALSE(b.attended);
  const auto& c = r.registrants[2];
  CHECK(c.minutes == 0);
  CHECK_FALSE(c.joined_at);
  CHECK_FALSE(c.attended);

  REQUIRE(r.viewers.size() == 30);
  CHECK(r.viewers[0] == 1);
  CHECK(r.viewers[10] == 2);
  CHECK(r.viewers[11] == 2);
  CHECK(r.viewers[12] == 1);
  CHECK(r.viewers[25] == 0);
}

TEST_CASE("without a session number the report is about the latest session that started", "[attendance]") {
  fixture f;
  CHECK(build_report(f.db, f.webinar, 0, 5, t0).session_number == 1);            // none started yet: the first
  CHECK(build_report(f.db, f.webinar, 0, 5, t0 + 2 * day).session_number == 1);
  CHECK(build_report(f.db, f.webinar, 0, 5, t0 + 9 * day).session_number == 2);
  CHECK_THROWS_AS(build_report(f.db, f.webinar, 3, 5, t0), cohort::common::not_found);
  CHECK_THROWS_AS(build_report(f.db, 999, 1, 5, t0), cohort::common::not_found);
}

TEST_CASE("a cancelled registrant appears only if they were seen", "[attendance]") {
  fixture f;
  const auto seen = f.signup("seen@example.org");
  const auto unseen = f.signup("unseen@example.org");
  f.present(seen, 0, 6);
  cohort::registration::cancel_registration(f.db, seen, t0 + day + 3600);
  cohort::registration::cancel_registration(f.db, unseen, t0);
  const auto r = build_report(f.db, f.webinar, 1, 5, t0 + 2 * day);
  REQUIRE(r.registrants.size() == 1);
  CHECK(r.registrants[0].status == "cancelled");
  CHECK(r.registrants[0].attended);
}

TEST_CASE("the CSV has one row per registrant with RFC 3339 times", "[attendance]") {
  fixture f;
  const auto id = f.signup("csv@example.org");
  f.present(id, 1, 5);
  const auto csv = report_csv(build_report(f.db, f.webinar, 1, 5, t0 + 2 * day));
  CHECK(csv.rfind("\"registration_id\",\"name\",\"email\",\"status\",\"joined_at\",\"left_at\",\"minutes\",\"attended\",\"polls_answered\"\r\n", 0) == 0);
  CHECK(csv.find("\"" + std::to_string(id) +
                 "\",\"Person csv@example.org\",\"csv@example.org\",\"registered\",\"2026-01-16T10:01:00Z\",\"2026-01-16T10:06:00Z\",\"5\",\"yes\",\"0 of 0\"") !=
        std::string::npos);
}

TEST_CASE("the report counts each registrant's answers to the session's opened polls", "[attendance]") {
  fixture f;
  const auto voter = f.signup("voter@example.org");
  const auto quiet = f.signup("quiet@example.org");
  // Session 1: two opened polls (one closed at 5000 ms) and a draft; session 2: one more.
  f.db.exec("INSERT INTO polls (id, webinar_id, session, question, kind, options, state, created_at, closed_ms) VALUES"
            " (1, " + std::to_string(f.webinar) + ", 1, 'A', 'single', '[\"x\",\"y\"]', 'open', 0, NULL),"
            " (2, " + std::to_string(f.webinar) + ", 1, 'B', 'single', '[\"x\",\"y\"]', 'closed', 0, 5000),"
            " (3, " + std::to_string(f.webinar) + ", 1, 'C', 'single', '[\"x\",\"y\"]', 'draft', 0, NULL),"
            " (4, " + std::to_string(f.webinar) + ", 2, 'D', 'single', '[\"x\",\"y\"]', 'open', 0, NULL)");
  f.db.exec("INSERT INTO poll_answers (poll_id, registration_id, choices, answered_ms) VALUES"
            " (1, " + std::to_string(voter) + ", '[0]', 1000), (2, " + std::to_string(voter) + ", '[1]', 4000),"
            " (4, " + std::to_string(voter) + ", '[1]', 4000), (2, " + std::to_string(quiet) + ", '[1]', 6000)");  // after the close
  const auto r = build_report(f.db, f.webinar, 1, 5, t0 + 2 * day);
  CHECK(r.polls == 2);
  REQUIRE(r.registrants.size() == 2);
  CHECK(r.registrants[0].polls_answered == 2);
  CHECK(r.registrants[1].polls_answered == 0);
  CHECK(report_csv(r).find("\"2 of 2\"") != std::string::npos);
}

#include "assessment/test_store.hpp"

#include "assessment/ce_gate.hpp"
#include "assessment/evaluation_store.hpp"
#include "common/errors.hpp"
#include "gateway/auth.hpp"
#include "registration/registration_store.hpp"
#include "registration/validation.hpp"
#include "registration/webinar_store.hpp"
#include "store/migrations.hpp"

#include <boost/json.hpp>
#include <catch2/catch.hpp>

using namespace cohort::assessment;
using cohort::registration::session_slot;
using cohort::store::database;
namespace json = boost::json;

namespace {

constexpr std::int64_t t0 = 1768471200;  // 2026-01-15T10:00:00Z, a whole minute
constexpr std::int64_t day = 86400;
constexpr std::int64_t starts = t0 + day;  // session 1: 60 minutes
constexpr std::int64_t after = starts + 2 * 3600;

struct fixture {
  database db{":memory:"};
  cohort::http::token_codec tokens{"assessment-test-secret-0123456789abcdef"};
  std::int64_t webinar = 0;
  std::mt19937_64 rng{42};

  fixture() {
    cohort::store::migrate(db);
    cohort::registration::webinar_input in;
    in.title = "Series";
    in.sessions = {session_slot{0, starts, 60}, session_slot{0, t0 + 8 * day, 60}};
    webinar = cohort::registration::create_webinar(db, std::move(in), t0);
    db.exec("INSERT INTO ce_series (webinar_id, offered, attempts_max, pass_percent, updated_at) VALUES (" + std::to_string(webinar) +
            ", 1, 2, 80, 0)");
  }
  std::int64_t signup(const std::string& email) {
    cohort::registration::signup_input in;
    in.name = "Person " + email;
    in.email = email;
    in.email_key = *cohort::registration::email_key(email);
    return cohort::registration::create_signup(db, webinar, in, tokens, t0).id;
  }
  void present(std::int64_t id, std::int64_t from_minute, std::int64_t count) {
    auto st = db.prepare("INSERT OR IGNORE INTO attendance (webinar_id, registration_id, minute) VALUES (?, ?, ?)");
    for (std::int64_t m = 0; m < count; ++m) {
      st.reset();
      st.bind(1, webinar).bind(2, id).bind(3, starts / 60 + from_minute + m);
      st.run();
    }
  }
  void set_bank() {
    replace_bank(db, webinar, 1, parse_bank(json::parse(R"({"questions": [
      {"kind": "single", "prompt": "Q1", "options": ["a", "b"], "correct": [1]},
      {"kind": "multiple", "prompt": "Q2", "options": ["w", "x", "y"], "correct": [0, 2]}]})").as_object()));
  }
  std::string closed_code(std::int64_t id, std::int64_t now) {
    const auto t = load_test_state(db, webinar, id, 1, now);
    return t.closed ? t.closed->code : "open";
  }
};

json::object all_right(const std::vector<shown_question>& shown) {
  json::object answers;
  for (const auto& q : shown) {
    json::array ids;
    for (int c : q.correct) ids.emplace_back(c);
    answers[std::to_string(q.id)] = ids;
  }
  return {{"answers", answers}};
}

}  // namespace

TEST_CASE("live minutes needed: ceil of the share, exactly at it passes; a rejoin counts each minute once", "[assessment]") {
  CHECK(live_minutes_needed(85, 60) == 51);
  CHECK(live_minutes_needed(50, 60) == 30);
  CHECK(live_minutes_needed(85, 45) == 39);  // 38.25 rounds up
  CHECK(live_minutes_needed(100, 60) == 60);
  fixture f;
  f.set_bank();
  const auto exact = f.signup("exact@example.org");
  const auto short_by_one = f.signup("short@example.org");
  f.present(exact, 0, 30);
  f.present(exact, 20, 21);  // rejoined: minutes 20..29 again, then to 40
  f.present(exact, 41, 10);  // 0..40 and 41..50: 51 distinct minutes
  f.present(short_by_one, 0, 50);
  f.present(short_by_one, 60, 5);  // after the end: not the session's
  CHECK(live_minutes(f.db, f.webinar, exact, load_session(f.db, f.webinar, 1)) == 51);
  CHECK(f.closed_code(exact, after) == "open");
  CHECK(f.closed_code(short_by_one, after) == "not_attended");
  CHECK(f.closed_code(exact, starts + 3599) == "not_ended");
  CHECK(f.closed_code(exact, starts + 3600) == "open");
}

TEST_CASE("recorded credit: the replay share opens the test only when the series allows it", "[assessment]") {
  fixture f;
  f.set_bank();
  const auto viewer = f.signup("viewer@example.org");
  f.db.exec("INSERT INTO recordings (id, webinar_id, session_number, started_at, ended_at, segments, dir) VALUES (7, " +
            std::to_string(f.webinar) + ", 1, 0, 1, 20, 'a')");
  for (int s = 0; s < 17; ++s)
    f.db.exec("INSERT INTO replay_views (recording_id, registration_id, segment, webinar_id, first_at) VALUES (7, " +
              std::to_string(viewer) + ", " + std::to_string(s) + ", " + std::to_string(f.webinar) + ", 0)");
  CHECK(replay_share(f.db, f.webinar, viewer, 1).watched == 17);
  CHECK(f.closed_code(viewer, after) == "not_attended");  // recorded_credit is off
  f.db.exec("UPDATE ce_series SET recorded_credit = 1");
  CHECK(f.closed_code(viewer, after) == "open");  // 17 of 20 = 85 %
  f.db.exec("UPDATE ce_series SET min_percent = 90");
  const auto t = load_test_state(f.db, f.webinar, viewer, 1, after);
  REQUIRE(t.closed);
  CHECK(t.closed->message.find("you watched 85%") != std::string::npos);
}

TEST_CASE("CE not offered closes everything", "[assessment]") {
  fixture f;
  f.set_bank();
  const auto id = f.signup("a@example.org");
  f.present(id, 0, 60);
  f.db.exec("DELETE FROM ce_series");
  CHECK(f.closed_code(id, after) == "not_offered");
  CHECK_THROWS_AS(start_attempt(f.db, f.webinar, id, 1, after, f.rng), cohort::common::forbidden);
}

TEST_CASE("attempts: the open one is returned, a failed one counts, the limit holds, a pass closes the test", "[assessment]") {
  fixture f;
  f.set_bank();
  const auto id = f.signup("learner@example.org");
  const auto other = f.signup("other@example.org");
  f.present(id, 0, 60);
  f.present(other, 0, 60);

  auto [first, created] = start_attempt(f.db, f.webinar, id, 1, after, f.rng);
  CHECK(created);
  auto [again, created_again] = start_attempt(f.db, f.webinar, id, 1, after, f.rng);
  CHECK_FALSE(created_again);
  CHECK(again.id == first.id);
  CHECK_THROWS_AS(submit_attempt(f.db, f.webinar, other, 1, first.id, json::object{{"answers", json::object{}}}, after),
                  cohort::common::not_found);

  // The organizer edits the bank meanwhile: the open attempt is graded as it was shown.
  replace_bank(f.db, f.webinar, 1, parse_bank(json::parse(R"({"questions": [
    {"kind": "single", "prompt": "Changed", "options": ["a", "b"], "correct": [0]}]})").as_object()));
  const auto shown = load_shown(first.shown);
  CHECK(shown.size() == 2);
  const auto failed = submit_attempt(f.db, f.webinar, id, 1, first.id, json::object{{"answers", json::object{}}}, after);
  CHECK(failed.result.score_percent == 0);
  CHECK_FALSE(failed.row.passed);
  CHECK_THROWS_AS(submit_attempt(f.db, f.webinar, id, 1, first.id, json::object{{"answers", json::object{}}}, after),
                  cohort::common::conflict);

  auto [second, c2] = start_attempt(f.db, f.webinar, id, 1, after, f.rng);
  CHECK(c2);
  CHECK(load_shown(second.shown).size() == 1);  // the new bank
  const auto passed = submit_attempt(f.db, f.webinar, id, 1, second.id, all_right(load_shown(second.shown)), after);
  CHECK(passed.result.score_percent == 100);
  CHECK(passed.row.passed);
  CHECK(f.closed_code(id, after) == "already_passed");
  CHECK_THROWS_AS(start_attempt(f.db, f.webinar, id, 1, after, f.rng), cohort::common::conflict);

  // attempts_max = 2: two failures close it.
  for (int i = 0; i < 2; ++i) {
    auto [a, c] = start_attempt(f.db, f.webinar, other, 1, after, f.rng);
    submit_attempt(f.db, f.webinar, other, 1, a.id, json::object{{"answers", json::object{}}}, after);
  }
  CHECK(f.closed_code(other, after) == "no_attempts_left");
  try {
    start_attempt(f.db, f.webinar, other, 1, after, f.rng);
    FAIL("a third attempt started");
  } catch (const cohort::common::conflict& e) {
    CHECK(e.code == "no_attempts_left");
  }
}

TEST_CASE("evaluation: items keep their ids, required answers are enforced, once per session", "[assessment]") {
  fixture f;
  const auto id = f.signup("e@example.org");
  replace_items(f.db, f.webinar, parse_items(json::parse(R"({"items": [
    {"session_number": null, "kind": "scale", "prompt": "Useful?", "required": true},
    {"session_number": 2, "kind": "text", "prompt": "Only after 2", "required": true},
    {"session_number": 1, "kind": "text", "prompt": "Comments", "required": false}]})").as_object()));
  auto items = load_items(f.db, f.webinar, 1);
  REQUIRE(items.size() == 2);
  const auto scale = items[0].id;
  replace_items(f.db, f.webinar, parse_items(json::parse(R"({"items": [{"id": )" + std::to_string(scale) +
                                                         R"(, "kind": "scale", "prompt": "Useful to you?"}]})").as_object()));
  items = load_items(f.db, f.webinar, 1);
  REQUIRE(items.size() == 1);
  CHECK(items[0].id == scale);
  CHECK(items[0].prompt == "Useful to you?");
  CHECK_THROWS_AS(replace_items(f.db, f.webinar, parse_items(json::parse(R"({"items": [{"session_number": 9, "kind": "text", "prompt": "x"}]})").as_object())),
                  cohort::common::invalid);

  auto field = [&](const std::string& body) -> std::string {
    try {
      parse_submission(json::parse(body).as_object(), items);
    } catch (const cohort::common::invalid& e) {
      return e.field;
    }
    return "(accepted)";
  };
  const auto key = std::to_string(scale);
  CHECK(field(R"({"answers": {}})") == "answers." + key);
  CHECK(field(R"({"answers": {")" + key + R"(": 6}})") == "answers." + key);
  CHECK(field(R"({"answers": {"999": 1}})") == "answers.999");
  CHECK(field(R"({"answers": {")" + key + R"(": 4}})") == "(accepted)");
  insert_submission(f.db, f.webinar, id, 1, parse_submission(json::parse(R"({"answers": {")" + key + R"(": 4}})").as_object(), items), after);
  CHECK_THROWS_AS(insert_submission(f.db, f.webinar, id, 1, json::object{}, after), cohort::common::conflict);
  const auto s = summary(f.db, f.webinar, 1);
  CHECK(s.at("responses").as_int64() == 1);
  CHECK(s.at("items").as_array()[0].at("mean").as_double() == 4.0);
}

#include "ce/completion.hpp"

#include <catch2/catch.hpp>

#include <algorithm>

using namespace cohort::ce;

namespace {

constexpr std::int64_t start = 1768471200;  // 2026-01-15T10:00:00Z

session_facts ended_session(std::int64_t minutes) {
  session_facts f;
  f.starts_at = start;
  f.duration_minutes = 60;
  f.now = start + 2 * 3600;
  f.live_minutes = minutes;
  return f;
}

rule no_test() {
  rule r;
  r.test_required = false;
  return r;
}

bool has(const progress& p, const std::string& code) {
  return std::any_of(p.missing.begin(), p.missing.end(), [&](const missing_item& m) { return m.code == code; });
}

const missing_item& item(const progress& p, const std::string& code) {
  return *std::find_if(p.missing.begin(), p.missing.end(), [&](const missing_item& m) { return m.code == code; });
}

}  // namespace

TEST_CASE("the live threshold is ceil(min_percent x duration / 100)", "[ce]") {
  CHECK(live_threshold(85, 60) == 51);
  CHECK(live_threshold(85, 45) == 39);  // 38.25 -> 39
  CHECK(live_threshold(100, 60) == 60);
  CHECK(live_threshold(1, 60) == 1);    // 0.6 -> 1
  CHECK(live_threshold(50, 90) == 45);  // exact
}

TEST_CASE("exactly at the threshold earns live credit; one minute below does not", "[ce]") {
  const auto at = evaluate(no_test(), ended_session(51));
  CHECK(at.where == state::complete);
  CHECK(at.kind == credit_kind::live);
  CHECK(at.missing.empty());
  CHECK(at.test_open);

  const auto below = evaluate(no_test(), ended_session(50));
  CHECK(below.where == state::in_progress);
  CHECK(below.kind == credit_kind::none);
  CHECK_FALSE(below.test_open);
  REQUIRE(has(below, "attendance"));
  CHECK(item(below, "attendance").text == "attended 50 of 60 minutes — 51 were needed for live credit, and this series offers no recorded credit");
}

TEST_CASE("an upcoming session and one in progress", "[ce]") {
  auto f = ended_session(0);
  f.now = start - 60;
  const auto before = evaluate(no_test(), f);
  CHECK(before.where == state::upcoming);
  CHECK(has(before, "upcoming"));

  f.now = start + 20 * 60;
  f.live_minutes = 19;
  const auto during = evaluate(no_test(), f);
  CHECK(during.where == state::in_progress);
  CHECK(item(during, "attendance").text == "attended 19 of 60 minutes so far (51 needed for live credit)");
  // Enough minutes already: live, but complete only once the session has ended.
  f.live_minutes = 55;
  const auto enough = evaluate(no_test(), f);
  CHECK(enough.kind == credit_kind::live);
  CHECK(enough.where == state::in_progress);
  CHECK_FALSE(enough.test_open);
  CHECK(item(enough, "in_session").text == "attended 55 of 60 minutes so far — enough for live credit; the session is still running");
}

TEST_CASE("50 % live, then recorded credit from the replay", "[ce]") {
  rule r = no_test();
  r.recorded_credit = true;
  auto f = ended_session(30);
  auto p = evaluate(r, f);
  CHECK(p.where == state::in_progress);
  CHECK(item(p, "attendance").text ==
        "attended 30 of 60 minutes — the replay can still earn recorded credit once it is published (watch 85 % of it)");

  f.replay_segments_total = 100;
  f.replay_segments_seen = 40;
  p = evaluate(r, f);
  CHECK(item(p, "attendance").text == "attended 30 of 60 minutes — the replay can still earn recorded credit (watch 85 % of it; 40 % watched so far)");
  CHECK(p.replay_percent == 40);
  CHECK_FALSE(p.test_open);

  f.replay_segments_seen = 84;
  CHECK(evaluate(r, f).kind == credit_kind::none);
  f.replay_segments_seen = 85;  // exactly the share
  p = evaluate(r, f);
  CHECK(p.kind == credit_kind::recorded);
  CHECK(p.where == state::complete);
  CHECK(p.test_open);
}

TEST_CASE("recorded credit is not granted when the series does not offer it", "[ce]") {
  auto f = ended_session(30);
  f.replay_segments_total = 10;
  f.replay_segments_seen = 10;
  const auto p = evaluate(no_test(), f);
  CHECK(p.kind == credit_kind::none);
  CHECK(p.where == state::in_progress);
  CHECK_FALSE(p.test_open);
}

TEST_CASE("live credit wins over recorded when both are met", "[ce]") {
  rule r = no_test();
  r.recorded_credit = true;
  auto f = ended_session(60);
  f.replay_segments_total = 10;
  f.replay_segments_seen = 10;
  CHECK(evaluate(r, f).kind == credit_kind::live);
}

TEST_CASE("the post-test: unpublished, not passed yet, passed, attempts exhausted", "[ce]") {
  rule r;  // test required, pass 80 %, 3 attempts
  auto f = ended_session(60);
  auto p = evaluate(r, f);
  CHECK(item(p, "test_unpublished").text == "post-test not published yet");
  CHECK(p.where == state::in_progress);

  f.questions = 5;
  f.attempts_used = 1;
  f.best_score = 60;
  p = evaluate(r, f);
  CHECK(item(p, "test").text == "post-test: not passed yet (1 of 3 attempts used, pass mark 80 %)");
  CHECK(p.where == state::in_progress);

  f.attempts_used = 3;
  p = evaluate(r, f);
  CHECK(p.where == state::failed);
  CHECK(item(p, "test").text == "post-test: not passed — all 3 attempts used (pass mark 80 %)");

  f.test_passed = true;
  f.best_passing_score = 80;
  p = evaluate(r, f);
  CHECK(p.where == state::complete);
  CHECK(p.missing.empty());
}

TEST_CASE("the post-test stays closed until the viewing rule is met", "[ce]") {
  rule r;
  auto f = ended_session(10);
  f.questions = 3;
  auto p = evaluate(r, f);
  CHECK_FALSE(p.test_open);
  CHECK(item(p, "test").text == "post-test: not passed yet (0 of 3 attempts used, pass mark 80 %) — it opens once the viewing rule above is met");
  f.now = start + 10 * 60;
  CHECK(item(evaluate(r, f), "test").text ==
        "post-test: not passed yet (0 of 3 attempts used, pass mark 80 %) — it opens when the session ends");
}

TEST_CASE("evaluation and attestation are asked only when the series asks for them", "[ce]") {
  rule r = no_test();
  auto f = ended_session(60);
  r.evaluation_required = true;
  CHECK(evaluate(r, f).where == state::complete);  // no items: nothing to submit
  f.evaluation_items = 4;
  auto p = evaluate(r, f);
  CHECK(item(p, "evaluation").text == "evaluation not submitted");
  f.evaluation_submitted = true;
  CHECK(evaluate(r, f).where == state::complete);

  r.attestation_required = true;
  p = evaluate(r, f);
  CHECK(item(p, "attestation").text == "attestation not ticked");
  CHECK(p.where == state::in_progress);
  f.attested = true;
  CHECK(evaluate(r, f).where == state::complete);
}

TEST_CASE("recorded-only series: live minutes earn nothing but still open the test", "[ce]") {
  rule r = no_test();
  r.live_credit = false;
  r.recorded_credit = true;
  auto f = ended_session(60);
  const auto p = evaluate(r, f);
  CHECK(p.kind == credit_kind::none);
  CHECK(p.test_open);
  CHECK(item(p, "replay").text == "watch the replay for recorded credit once it is published (watch 85 % of it)");
}

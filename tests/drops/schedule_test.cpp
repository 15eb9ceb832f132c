#include "drops/schedule.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <unordered_map>
#include <vector>

namespace {

using namespace cohort::drops;
using cohort::registration::session_slot;

constexpr std::int64_t t0 = 1768471200;  // 2026-01-15T10:00:00Z, a whole minute
constexpr std::int64_t day = 86400;

std::vector<session_slot> three_sessions() {
  return {{1, t0, 60}, {2, t0 + 7 * day, 90}, {3, t0 + 14 * day, 45}};
}

release_rule absolute(std::int64_t at) {
  release_rule r;
  r.at = at;
  return r;
}

release_rule relative(int session, int offset_minutes) {
  release_rule r;
  r.session = session;
  r.offset_minutes = offset_minutes;
  return r;
}

}  // namespace

TEST_CASE("effective_release of an absolute rule is its time, whatever the sessions", "[drops][schedule]") {
  CHECK(effective_release(absolute(t0 + 123), three_sessions()) == t0 + 123);
  CHECK(effective_release(absolute(t0 + 123), {}) == t0 + 123);
  CHECK_FALSE(absolute(t0).is_draft());
}

TEST_CASE("effective_release of a relative rule counts minutes from session N", "[drops][schedule]") {
  const auto sessions = three_sessions();
  CHECK(effective_release(relative(1, 0), sessions) == t0);
  CHECK(effective_release(relative(2, 30), sessions) == t0 + 7 * day + 30 * 60);
  CHECK(effective_release(relative(2, -15), sessions) == t0 + 7 * day - 15 * 60);
  CHECK(effective_release(relative(3, 24 * 60), sessions) == t0 + 15 * day);
  CHECK_FALSE(relative(2, 0).is_draft());
}

TEST_CASE("effective_release follows a moved session", "[drops][schedule]") {
  auto sessions = three_sessions();
  const auto rule = relative(2, 10);
  CHECK(effective_release(rule, sessions) == t0 + 7 * day + 600);
  sessions[1].starts_at += 3 * 3600;
  CHECK(effective_release(rule, sessions) == t0 + 7 * day + 3 * 3600 + 600);
}

TEST_CASE("effective_release without its anchor session is nullopt", "[drops][schedule]") {
  CHECK_FALSE(effective_release(relative(4, 0), three_sessions()));
  CHECK_FALSE(effective_release(relative(1, 5), {}));
  CHECK(find_session(three_sessions(), 4) == nullptr);
  const auto sessions = three_sessions();
  REQUIRE(find_session(sessions, 3) != nullptr);
  CHECK(find_session(sessions, 3)->starts_at == t0 + 14 * day);
}

TEST_CASE("a draft rule is never due", "[drops][schedule]") {
  release_rule draft;
  CHECK(draft.is_draft());
  CHECK_FALSE(effective_release(draft, three_sessions()));
  // An offset alone does not anchor anything.
  draft.offset_minutes = 30;
  CHECK(draft.is_draft());
  CHECK_FALSE(effective_release(draft, three_sessions()));
}

TEST_CASE("session_minutes of a minute-aligned session", "[drops][schedule]") {
  const auto [first, end] = session_minutes(session_slot{1, t0, 60});
  CHECK(first == t0 / 60);
  CHECK(end == t0 / 60 + 60);
  CHECK(end - first == 60);
}

TEST_CASE("session_minutes counts the minutes that start inside a non-aligned session", "[drops][schedule]") {
  SECTION("start 30 s past a minute") {
    // [t0+30, t0+30+3600): minutes starting at t0+60 ... t0+3600 start inside.
    const auto [first, end] = session_minutes(session_slot{1, t0 + 30, 60});
    CHECK(first == t0 / 60 + 1);
    CHECK(end == t0 / 60 + 61);
  }
  SECTION("start 1 s before a minute") {
    const auto [first, end] = session_minutes(session_slot{1, t0 - 1, 1});
    // [t0-1, t0+59): only the minute starting at t0.
    CHECK(first == t0 / 60);
    CHECK(end == t0 / 60 + 1);
  }
  SECTION("start 1 s after a minute") {
    const auto [first, end] = session_minutes(session_slot{1, t0 + 1, 1});
    // [t0+1, t0+61): only the minute starting at t0+60.
    CHECK(first == t0 / 60 + 1);
    CHECK(end == t0 / 60 + 2);
  }
}

TEST_CASE("select_audience splits attended and missed at min_minutes", "[drops][schedule]") {
  const std::vector<std::int64_t> registrants{1, 2, 3, 4, 5};
  // 1: exactly at the threshold, 2: one short, 3: well over, 4: zero minutes, 5: no record.
  const std::unordered_map<std::int64_t, std::int64_t> minutes{{1, 5}, {2, 4}, {3, 40}, {4, 0}, {99, 50}};
  CHECK(select_audience(audience_kind::attended, registrants, minutes, 5) == std::vector<std::int64_t>{1, 3});
  CHECK(select_audience(audience_kind::missed, registrants, minutes, 5) == std::vector<std::int64_t>{2, 4, 5});
  // Attendance of someone who is not a registrant (99) never appears.
  CHECK(select_audience(audience_kind::all, registrants, minutes, 5) == registrants);
}

TEST_CASE("select_audience: attended and missed partition the registrants", "[drops][schedule]") {
  const std::vector<std::int64_t> registrants{10, 20, 30};
  const std::unordered_map<std::int64_t, std::int64_t> minutes{{20, 1}};
  CHECK(select_audience(audience_kind::attended, registrants, minutes, 1) == std::vector<std::int64_t>{20});
  CHECK(select_audience(audience_kind::missed, registrants, minutes, 1) == std::vector<std::int64_t>{10, 30});
  CHECK(select_audience(audience_kind::attended, registrants, {}, 1).empty());
  CHECK(select_audience(audience_kind::missed, registrants, {}, 1) == registrants);
  CHECK(select_audience(audience_kind::all, {}, minutes, 1).empty());
}

TEST_CASE("parse_audience and to_string round trip", "[drops][schedule]") {
  for (auto kind : {audience_kind::all, audience_kind::attended, audience_kind::missed}) {
    const auto parsed = parse_audience(to_string(kind));
    REQUIRE(parsed);
    CHECK(*parsed == kind);
  }
  CHECK(to_string(audience_kind::all) == "all");
  CHECK(to_string(audience_kind::attended) == "attended");
  CHECK(to_string(audience_kind::missed) == "missed");
}

TEST_CASE("parse_audience rejects anything else", "[drops][schedule]") {
  for (const char* bad : {"", "All", "ATTENDED", " missed", "missed ", "everyone", "attend"}) {
    INFO(bad);
    CHECK_FALSE(parse_audience(bad));
  }
}

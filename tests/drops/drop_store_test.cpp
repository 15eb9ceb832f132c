#include "drops/drop_store.hpp"

#include "../store/migrated_file.hpp"
#include "../store/temp_database_file.hpp"
#include "common/errors.hpp"
#include "common/rfc3339.hpp"
#include "gateway/auth.hpp"
#include "gateway/http_types.hpp"
#include "registration/registration_store.hpp"
#include "registration/validation.hpp"
#include "registration/webinar_store.hpp"

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include <algorithm>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace {

namespace json = boost::json;
using namespace cohort::drops;
using cohort::registration::session_slot;
using cohort::store::database;

constexpr std::int64_t t0 = 1768471200;  // 2026-01-15T10:00:00Z, a whole minute
constexpr std::int64_t minute = 60, hour = 3600, day = 86400;
constexpr int min_minutes = 5;

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

drop_input input(std::string title, release_rule release, audience_kind audience = audience_kind::all,
                 std::optional<int> audience_session = std::nullopt) {
  drop_input in;
  in.title = std::move(title);
  in.body = "body of " + in.title;
  in.release = release;
  in.audience = audience;
  in.audience_session = audience_session;
  return in;
}

struct fixture {
  cohort::test::temp_database_file file;
  database db = cohort::test::open_migrated(file.path());
  cohort::http::token_codec tokens{"drop-store-test-secret-0123456789abcdef"};
  // Session 1 at t0 + 1 day (60 min), session 2 at t0 + 8 days (60 min).
  std::int64_t webinar = make_webinar({t0 + day, t0 + 8 * day});

  std::int64_t make_webinar(std::vector<std::int64_t> starts) {
    cohort::registration::webinar_input in;
    in.title = "Series";
    in.description = "weekly";
    for (auto s : starts) in.sessions.push_back(session_slot{0, s, 60});
    return cohort::registration::create_webinar(db, std::move(in), t0);
  }

  std::int64_t s1() const { return t0 + day; }
  std::int64_t s2() const { return t0 + 8 * day; }

  std::int64_t signup(const std::string& email, std::int64_t w = 0) {
    cohort::registration::signup_input in;
    in.name = "Person " + email;
    in.email = email;
    in.email_key = *cohort::registration::email_key(email);
    in.profession = "OT";
    const auto out = cohort::registration::create_signup(db, w ? w : webinar, in, tokens, t0);
    REQUIRE(out.created);
    return out.id;
  }

  std::int64_t insert(const drop_input& in, std::int64_t w = 0) { return insert_drop(db, w ? w : webinar, in, t0); }

  drop_record load(std::int64_t id) { return load_drop(db, webinar, id); }

  std::vector<std::int64_t> released_ids(const std::vector<released_drop>& r) {
    std::vector<std::int64_t> out;
    for (const auto& d : r) out.push_back(d.drop_id);
    return out;
  }

  std::vector<std::int64_t> audience_ids(std::int64_t id) {
    const auto d = load(id);
    REQUIRE(d.audience_ids);
    std::vector<std::int64_t> out;
    const auto parsed = json::parse(*d.audience_ids);
    for (const auto& v : parsed.as_array()) out.push_back(v.to_number<std::int64_t>());
    std::sort(out.begin(), out.end());
    return out;
  }

  // `count` attendance minutes for `who`, starting at unix time `from` (one row per minute).
  void attend(std::int64_t who, std::int64_t from, int count) {
    for (int i = 0; i < count; ++i) record_attendance(db, webinar, {who}, from / 60 + i);
  }
};

std::string validation_field(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const cohort::common::invalid& e) {
    return e.field;
  } catch (const std::exception& e) {
    FAIL("expected common::invalid, got: " << e.what());
  }
  FAIL("expected common::invalid, nothing thrown");
  return {};
}

// The status the gateway answers with for what fn throws (the store throws domain errors).
unsigned api_status(const std::function<void()>& fn) {
  try {
    fn();
  } catch (...) {
    return cohort::http::error_from(std::current_exception()).status;
  }
  FAIL("expected an error, nothing thrown");
  return 0;
}

}  // namespace

TEST_CASE("insert_drop rejects a release relative to an unknown session", "[drops][store]") {
  fixture f;
  CHECK(validation_field([&] { f.insert(input("x", relative(3, 0))); }) == "release");
  CHECK(validation_field([&] { f.insert(input("x", relative(-1, 0))); }) == "release");
  // Nothing was written.
  CHECK(list_drops(f.db, f.webinar).empty());
}

TEST_CASE("insert_drop: an attended drop with an absolute release needs audience_session", "[drops][store]") {
  fixture f;
  CHECK(validation_field([&] { f.insert(input("x", absolute(f.s1() + hour), audience_kind::attended)); }) ==
        "audience_session");
  CHECK(validation_field([&] { f.insert(input("x", absolute(f.s1() + hour), audience_kind::missed)); }) ==
        "audience_session");
  // An audience_session the series does not have.
  CHECK(validation_field([&] { f.insert(input("x", absolute(f.s1() + hour), audience_kind::attended, 7)); }) ==
        "audience_session");
  CHECK(list_drops(f.db, f.webinar).empty());
}

TEST_CASE("insert_drop: an attended draft needs audience_session too", "[drops][store]") {
  fixture f;
  CHECK(validation_field([&] { f.insert(input("x", release_rule{}, audience_kind::attended)); }) == "audience_session");
  const auto id = f.insert(input("x", release_rule{}, audience_kind::attended, 2));
  CHECK(f.load(id).audience_session == 2);
  CHECK(organizer_json(f.load(id)).at("state") == "draft");
}

TEST_CASE("insert_drop: an attended or missed drop cannot be released before its session starts", "[drops][store]") {
  fixture f;
  CHECK(validation_field([&] { f.insert(input("x", absolute(f.s1() - 1), audience_kind::attended, 1)); }) ==
        "audience_session");
  CHECK(validation_field([&] { f.insert(input("x", relative(1, -10), audience_kind::missed)); }) == "audience_session");
  // Released in session 1 about session 2: before session 2 starts.
  CHECK(validation_field([&] { f.insert(input("x", relative(1, 30), audience_kind::attended, 2)); }) ==
        "audience_session");
  // At the start exactly is allowed.
  const auto ok = f.insert(input("ok", absolute(f.s1()), audience_kind::attended, 1));
  CHECK(f.load(ok).audience_session == 1);
}

TEST_CASE("insert_drop: a relative release defaults audience_session to its session", "[drops][store]") {
  fixture f;
  const auto id = f.insert(input("after 2", relative(2, 45), audience_kind::attended));
  const auto d = f.load(id);
  CHECK(d.audience == audience_kind::attended);
  CHECK_FALSE(d.audience_session);  // not pinned: it follows the release's session
  CHECK(organizer_json(d).at("audience_session") == 2);
  CHECK(d.release.session == 2);
  CHECK(d.release.offset_minutes == 45);
  CHECK_FALSE(d.release.at);
  CHECK(d.release_at == f.s2() + 45 * minute);
  CHECK(d.title == "after 2");
  CHECK(d.body == "body of after 2");
  CHECK_FALSE(d.released_at);
  CHECK(d.created_at == t0);
}

TEST_CASE("insert_drop: an 'all' drop drops any audience_session", "[drops][store]") {
  fixture f;
  const auto id = f.insert(input("all", absolute(f.s1() - hour), audience_kind::all, 2));
  CHECK_FALSE(f.load(id).audience_session);
}

TEST_CASE("insert_drop into an unknown webinar is not found", "[drops][store]") {
  fixture f;
  CHECK_THROWS_AS(insert_drop(f.db, f.webinar + 100, input("x", absolute(t0)), t0), cohort::common::not_found);
}

TEST_CASE("next_due picks the earliest unreleased drop", "[drops][store]") {
  fixture f;
  CHECK_FALSE(next_due(f.db));
  f.insert(input("later", absolute(f.s2())));
  const auto early = f.insert(input("early", relative(1, -30)));
  f.insert(input("middle", relative(1, 90)));
  CHECK(next_due(f.db) == f.s1() - 30 * minute);

  // Releasing the earliest moves next_due on.
  const auto r = release_due(f.db, f.s1() - 30 * minute, min_minutes);
  CHECK(f.released_ids(r) == std::vector<std::int64_t>{early});
  CHECK(next_due(f.db) == f.s1() + 90 * minute);
}

TEST_CASE("next_due follows a session moved with update_webinar", "[drops][store]") {
  fixture f;
  const auto id = f.insert(input("relative", relative(2, 15)));
  f.insert(input("absolute", absolute(f.s2() + day)));
  CHECK(next_due(f.db) == f.s2() + 15 * minute);

  cohort::registration::webinar_patch p;
  p.sessions = std::vector<session_slot>{{0, f.s1(), 60}, {0, f.s2() + 2 * hour, 60}};
  cohort::registration::update_webinar(f.db, f.webinar, p, t0);
  CHECK(next_due(f.db) == f.s2() + 2 * hour + 15 * minute);
  CHECK(f.load(id).release_at == f.s2() + 2 * hour + 15 * minute);

  // Not released at the old time, released at the new one.
  CHECK(release_due(f.db, f.s2() + 15 * minute, min_minutes).empty());
  CHECK(f.released_ids(release_due(f.db, f.s2() + 2 * hour + 15 * minute, min_minutes)) == std::vector<std::int64_t>{id});
}

TEST_CASE("a relative drop whose session is removed is never due", "[drops][store]") {
  fixture f;
  const auto id = f.insert(input("about 2", relative(2, 0)));
  cohort::registration::webinar_patch p;
  p.sessions = std::vector<session_slot>{{0, f.s1(), 60}};
  cohort::registration::update_webinar(f.db, f.webinar, p, t0);
  CHECK_FALSE(next_due(f.db));
  CHECK_FALSE(f.load(id).release_at);
  CHECK(release_due(f.db, f.s2() + 365 * day, min_minutes).empty());
}

TEST_CASE("release_due releases only due drops, exactly once", "[drops][store]") {
  fixture f;
  const auto a = f.insert(input("a", absolute(f.s1())));
  const auto b = f.insert(input("b", relative(1, 0)));
  const auto later = f.insert(input("later", absolute(f.s1() + 1)));

  CHECK(release_due(f.db, f.s1() - 1, min_minutes).empty());
  const auto first = release_due(f.db, f.s1(), min_minutes);
  CHECK(f.released_ids(first) == std::vector<std::int64_t>{a, b});
  for (const auto& r : first) CHECK(r.webinar_id == f.webinar);
  CHECK(f.load(a).released_at == f.s1());
  CHECK(f.load(b).released_at == f.s1());
  CHECK_FALSE(f.load(later).released_at);

  // Again at the same time, and much later: a and b never come back; released_at stays.
  CHECK(release_due(f.db, f.s1(), min_minutes).empty());
  const auto second = release_due(f.db, f.s1() + day, min_minutes);
  CHECK(f.released_ids(second) == std::vector<std::int64_t>{later});
  CHECK(release_due(f.db, f.s1() + 2 * day, min_minutes).empty());
  CHECK(f.load(a).released_at == f.s1());
  CHECK(f.load(later).released_at == f.s1() + day);
}

TEST_CASE("release_due returns the x.drop frame of the release", "[drops][store]") {
  fixture f;
  drop_input in = input("Slides", absolute(f.s1()));
  in.url = "https://example.org/slides";
  const auto id = f.insert(in);
  const auto r = release_due(f.db, f.s1() + 5, min_minutes);
  REQUIRE(r.size() == 1);
  const auto frame = json::parse(r[0].frame).as_object();
  CHECK(frame.at("type") == "x.drop");
  CHECK(frame.at("to").is_null());
  const auto& drop = frame.at("drop").as_object();
  CHECK(drop.at("id").to_number<std::int64_t>() == id);
  CHECK(drop.at("title") == "Slides");
  CHECK(drop.at("url") == "https://example.org/slides");
  CHECK(drop.at("released_at") == json::value(cohort::common::format_rfc3339(f.s1() + 5)));
}

TEST_CASE("release_due fixes the attended and missed audiences from the attendance", "[drops][store]") {
  fixture f;
  const auto exact = f.signup("exact@example.org");    // exactly min_minutes inside
  const auto short_ = f.signup("short@example.org");   // one short inside, plenty outside
  const auto long_ = f.signup("long@example.org");     // the whole session
  const auto absent = f.signup("absent@example.org");  // no attendance at all
  const auto gone = f.signup("gone@example.org");      // attended, then cancelled
  const auto other = f.signup("other@example.org");    // attended session 2 only

  // Session 1 is [s1, s1 + 60 min): the minute before and the minute at the end are outside.
  f.attend(exact, f.s1() + 55 * minute, 5);  // minutes 55..59: the last five inside
  f.attend(short_, f.s1() - 10 * minute, 10);
  f.attend(short_, f.s1(), 4);
  f.attend(short_, f.s1() + 60 * minute, 10);
  f.attend(long_, f.s1(), 60);
  f.attend(gone, f.s1(), 60);
  f.attend(other, f.s2(), 60);
  // Recording the same minute twice counts once.
  f.attend(exact, f.s1() + 55 * minute, 5);
  cohort::registration::cancel_registration(f.db, gone, t0);

  const auto attended = f.insert(input("attended", relative(1, 60), audience_kind::attended));
  const auto missed = f.insert(input("missed", relative(1, 60), audience_kind::missed));
  const auto all = f.insert(input("all", relative(1, 60)));
  const auto attended2 = f.insert(input("attended 2", absolute(f.s2() + hour), audience_kind::attended, 2));

  const auto r = release_due(f.db, f.s1() + 60 * minute, min_minutes);
  CHECK(f.released_ids(r) == std::vector<std::int64_t>{attended, missed, all});
  CHECK(f.audience_ids(attended) == std::vector<std::int64_t>{exact, long_});
  CHECK(f.audience_ids(missed) == std::vector<std::int64_t>{short_, absent, other});
  CHECK_FALSE(f.load(all).audience_ids);

  // The "to" of each frame is the audience.
  for (const auto& d : r) {
    const auto frame = json::parse(d.frame).as_object();
    if (d.drop_id == all)
      CHECK(frame.at("to").is_null());
    else
      CHECK(frame.at("to").as_array().size() == 2 + (d.drop_id == missed ? 1 : 0));
  }

  // The audience is fixed at release: attendance recorded afterwards changes nothing.
  f.attend(absent, f.s1(), 60);
  CHECK(f.audience_ids(missed) == std::vector<std::int64_t>{short_, absent, other});

  CHECK(f.released_ids(release_due(f.db, f.s2() + hour, min_minutes)) == std::vector<std::int64_t>{attended2});
  CHECK(f.audience_ids(attended2) == std::vector<std::int64_t>{other});
}

TEST_CASE("release_due uses the min_minutes it is given", "[drops][store]") {
  fixture f;
  const auto a = f.signup("a@example.org");
  const auto b = f.signup("b@example.org");
  f.attend(a, f.s1(), 3);
  f.attend(b, f.s1(), 10);
  const auto id = f.insert(input("attended", absolute(f.s1() + hour), audience_kind::attended, 1));
  release_due(f.db, f.s1() + hour, 10);
  CHECK(f.audience_ids(id) == std::vector<std::int64_t>{b});
}

TEST_CASE("audience_of counts only minutes inside the session window", "[drops][store]") {
  fixture f;
  // Session 3 starts 30 s past a minute: [s3, s3 + 2 min) holds only the minute starting at s3 + 30 s.
  const auto w = f.make_webinar({t0 + 30});
  cohort::registration::webinar_patch p;
  p.sessions = std::vector<session_slot>{{0, t0 + 30, 2}};
  cohort::registration::update_webinar(f.db, w, p, t0);
  const auto in = f.signup("in@example.org", w);
  const auto edge = f.signup("edge@example.org", w);
  record_attendance(f.db, w, {in, edge}, t0 / 60 + 1);  // starts at t0 + 60: inside
  record_attendance(f.db, w, {edge}, t0 / 60);           // starts at t0, before the session
  record_attendance(f.db, w, {edge}, t0 / 60 + 3);       // starts at t0 + 180, after the end (t0 + 150)
  CHECK(audience_of(f.db, w, audience_kind::attended, 1, 2).empty());
  CHECK(audience_of(f.db, w, audience_kind::attended, 1, 1) == std::vector<std::int64_t>{in, edge});
  record_attendance(f.db, w, {in}, t0 / 60 + 2);  // starts at t0 + 120 < t0 + 150: inside
  CHECK(audience_of(f.db, w, audience_kind::attended, 1, 2) == std::vector<std::int64_t>{in});
  CHECK(audience_of(f.db, w, audience_kind::missed, 1, 2) == std::vector<std::int64_t>{edge});
  CHECK(audience_of(f.db, w, audience_kind::all, 1, 2) == std::vector<std::int64_t>{in, edge});
}

TEST_CASE("a released drop can no longer be updated, deleted or given a file", "[drops][store]") {
  fixture f;
  const auto id = f.insert(input("x", absolute(f.s1())));
  const auto pending = f.insert(input("y", absolute(f.s2())));
  REQUIRE(release_due(f.db, f.s1(), min_minutes).size() == 1);

  drop_patch p;
  p.title = "changed";
  CHECK(api_status([&] { update_drop(f.db, f.webinar, id, p, t0); }) == 409);
  CHECK(api_status([&] { delete_drop(f.db, f.webinar, id); }) == 409);
  CHECK(api_status([&] { set_file(f.db, f.webinar, id, drop_file{"ab", "a.pdf", "application/pdf", 3}, t0); }) == 409);
  const auto d = f.load(id);
  CHECK(d.title == "x");
  CHECK_FALSE(d.file);

  // The unreleased one still can.
  update_drop(f.db, f.webinar, pending, p, t0 + 1);
  CHECK(f.load(pending).title == "changed");
  set_file(f.db, f.webinar, pending, drop_file{"ab", "a.pdf", "application/pdf", 3}, t0 + 1);
  REQUIRE(f.load(pending).file);
  CHECK(f.load(pending).file->name == "a.pdf");
  delete_drop(f.db, f.webinar, pending);
  CHECK_THROWS_AS(f.load(pending), cohort::common::not_found);
}

TEST_CASE("update_drop re-checks the schedule and changes only what the patch sets", "[drops][store]") {
  fixture f;
  drop_input in = input("x", absolute(f.s2()));
  in.url = "https://example.org";
  const auto id = f.insert(in);

  drop_patch bad;
  bad.release = relative(9, 0);
  CHECK(validation_field([&] { update_drop(f.db, f.webinar, id, bad, t0); }) == "release");

  drop_patch p;
  p.release = relative(1, 5);
  p.audience = audience_kind::missed;
  update_drop(f.db, f.webinar, id, p, t0);
  auto d = f.load(id);
  CHECK(d.release_at == f.s1() + 5 * minute);
  CHECK(organizer_json(d).at("audience_session") == 1);
  CHECK(d.url == "https://example.org");
  CHECK(d.title == "x");

  drop_patch clear;
  clear.url_set = true;
  update_drop(f.db, f.webinar, id, clear, t0);
  CHECK_FALSE(f.load(id).url);
  CHECK(f.load(id).release_at == f.s1() + 5 * minute);
}

TEST_CASE("a drop of another webinar is not found through this one", "[drops][store]") {
  fixture f;
  const auto other = f.make_webinar({t0 + day});
  const auto id = f.insert(input("x", absolute(t0)), other);
  CHECK_THROWS_AS(f.load(id), cohort::common::not_found);
  drop_patch p;
  p.title = "y";
  CHECK_THROWS_AS(update_drop(f.db, f.webinar, id, p, t0), cohort::common::not_found);
  CHECK_THROWS_AS(delete_drop(f.db, f.webinar, id), cohort::common::not_found);
  CHECK(load_drop(f.db, other, id).title == "x");
}

TEST_CASE("released_for returns the drops released to a registrant, newest first", "[drops][store]") {
  fixture f;
  const auto came = f.signup("came@example.org");
  const auto stayed_away = f.signup("away@example.org");
  f.attend(came, f.s1(), 30);

  const auto first = f.insert(input("first", absolute(f.s1() - hour)));
  const auto for_attended = f.insert(input("for attended", relative(1, 60), audience_kind::attended));
  const auto for_missed = f.insert(input("for missed", relative(1, 60), audience_kind::missed));
  const auto last = f.insert(input("last", relative(1, 120)));
  const auto unreleased = f.insert(input("unreleased", absolute(f.s2())));
  (void)unreleased;

  release_due(f.db, f.s1() - hour, min_minutes);
  release_due(f.db, f.s1() + hour, min_minutes);
  release_due(f.db, f.s1() + 2 * hour, min_minutes);

  auto ids = [&](std::int64_t who) {
    std::vector<std::int64_t> out;
    for (const auto& d : released_for(f.db, f.webinar, who)) out.push_back(d.id);
    return out;
  };
  CHECK(ids(came) == std::vector<std::int64_t>{last, for_attended, first});
  CHECK(ids(stayed_away) == std::vector<std::int64_t>{last, for_missed, first});

  for (const auto& d : released_for(f.db, f.webinar, came)) CHECK(is_released_to(d, came));
  CHECK_FALSE(is_released_to(f.load(for_missed), came));
  CHECK(is_released_to(f.load(for_missed), stayed_away));
  CHECK_FALSE(is_released_to(f.load(unreleased), came));
}

TEST_CASE("mark_seen only moves forward", "[drops][store]") {
  fixture f;
  const auto who = f.signup("seen@example.org");
  CHECK(seen_until(f.db, f.webinar, who) == 0);
  CHECK(mark_seen(f.db, f.webinar, who, t0 + 100) == t0 + 100);
  CHECK(mark_seen(f.db, f.webinar, who, t0 + 50) == t0 + 100);
  CHECK(seen_until(f.db, f.webinar, who) == t0 + 100);
  CHECK(mark_seen(f.db, f.webinar, who, t0 + 200) == t0 + 200);
  CHECK(seen_until(f.db, f.webinar, who) == t0 + 200);
  // Per registrant.
  CHECK(seen_until(f.db, f.webinar, who + 1) == 0);
}

TEST_CASE("mark_opened is idempotent and counted in opened", "[drops][store]") {
  fixture f;
  const auto a = f.signup("a@example.org");
  const auto b = f.signup("b@example.org");
  const auto id = f.insert(input("x", absolute(f.s1())));
  release_due(f.db, f.s1(), min_minutes);
  CHECK(f.load(id).opened == 0);
  mark_opened(f.db, id, a, t0);
  mark_opened(f.db, id, a, t0 + 10);
  CHECK(f.load(id).opened == 1);
  mark_opened(f.db, id, b, t0 + 20);
  CHECK(f.load(id).opened == 2);
  CHECK(organizer_json(f.load(id)).at("opened").to_number<std::int64_t>() == 2);
}

TEST_CASE("state_frames holds released drops and seen markers", "[drops][store]") {
  fixture f;
  const auto came = f.signup("came@example.org");
  const auto away = f.signup("away@example.org");
  f.attend(came, f.s1(), 30);
  const auto all = f.insert(input("all", absolute(f.s1())));
  const auto targeted = f.insert(input("attended", relative(1, 60), audience_kind::attended));
  f.insert(input("pending", absolute(f.s2())));
  f.insert(input("draft", release_rule{}));
  release_due(f.db, f.s1() + hour, min_minutes);
  mark_seen(f.db, f.webinar, came, f.s1() + hour);
  mark_seen(f.db, f.webinar, away, f.s1());

  std::map<std::int64_t, json::object> drops;
  std::map<std::int64_t, std::int64_t> seen;
  for (const auto& text : state_frames(f.db, f.webinar)) {
    const auto frame = json::parse(text).as_object();
    const auto type = frame.at("type").as_string();
    if (type == "x.drop")
      drops[frame.at("drop").at("id").to_number<std::int64_t>()] = frame;
    else if (type == "x.seen")
      seen[frame.at("registration_id").to_number<std::int64_t>()] = frame.at("at").to_number<std::int64_t>();
    else
      FAIL("unexpected frame " << text);
  }
  REQUIRE(drops.size() == 2);
  REQUIRE(drops.count(all));
  REQUIRE(drops.count(targeted));
  CHECK(drops[all].at("to").is_null());
  CHECK(drops[targeted].at("to") == json::value(json::array{came}));
  CHECK(drops[targeted].at("drop").at("title") == "attended");
  CHECK(seen == std::map<std::int64_t, std::int64_t>{{came, f.s1() + hour}, {away, f.s1()}});

  // Another webinar's state is not mixed in.
  const auto other = f.make_webinar({t0 + day});
  CHECK(state_frames(f.db, other).empty());
}

TEST_CASE("drafts are never due and report state draft", "[drops][store]") {
  fixture f;
  const auto draft = f.insert(input("draft", release_rule{}));
  CHECK_FALSE(next_due(f.db));
  CHECK(release_due(f.db, t0 + 3650 * day, min_minutes).empty());
  auto o = organizer_json(f.load(draft));
  CHECK(o.at("state") == "draft");
  CHECK(o.at("release").is_null());
  CHECK(o.at("release_at").is_null());
  CHECK(o.at("released_at").is_null());

  const auto scheduled = f.insert(input("scheduled", relative(1, 10)));
  o = organizer_json(f.load(scheduled));
  CHECK(o.at("state") == "scheduled");
  CHECK(o.at("release").at("session") == 1);
  CHECK(o.at("release").at("offset_minutes") == 10);
  CHECK(o.at("release_at") == json::value(cohort::common::format_rfc3339(f.s1() + 10 * minute)));

  release_due(f.db, f.s1() + 10 * minute, min_minutes);
  o = organizer_json(f.load(scheduled));
  CHECK(o.at("state") == "released");
  CHECK(o.at("released_at") == json::value(cohort::common::format_rfc3339(f.s1() + 10 * minute)));
  CHECK(organizer_json(f.load(draft)).at("state") == "draft");
}

TEST_CASE("list_drops orders by effective release, drafts last", "[drops][store]") {
  fixture f;
  const auto draft = f.insert(input("draft", release_rule{}));
  const auto late = f.insert(input("late", absolute(f.s2())));
  const auto early = f.insert(input("early", relative(1, -60)));
  std::vector<std::int64_t> ids;
  for (const auto& d : list_drops(f.db, f.webinar)) ids.push_back(d.id);
  CHECK(ids == std::vector<std::int64_t>{early, late, draft});
}

TEST_CASE("a relative attended drop follows its release to another session unless its audience session was named", "[drops][store]") {
  fixture f;
  const auto id = f.insert(input("after", relative(2, 45), audience_kind::attended));
  drop_patch move;
  move.release = relative(1, 30);
  update_drop(f.db, f.webinar, id, move, t0);
  CHECK(organizer_json(f.load(id)).at("audience_session") == 1);

  const auto pinned = f.insert(input("pinned", relative(2, 45), audience_kind::attended, 2));
  drop_patch earlier;
  earlier.release = relative(1, 30);  // released before session 2 starts: refused
  CHECK(validation_field([&] { update_drop(f.db, f.webinar, pinned, earlier, t0); }) == "audience_session");
}

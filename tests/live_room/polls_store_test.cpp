#include "live_room/channels/polls/polls_store.hpp"

#include "live_room/channels/polls/polls_channel.hpp"
#include "registration/webinar_store.hpp"
#include "store/migrations.hpp"

#include <boost/json.hpp>
#include <catch2/catch.hpp>

namespace {

using namespace cohort::live_room;

struct store_fixture {
  cohort::store::database db{":memory:"};
  std::int64_t webinar = 0;
  store_fixture() {
    cohort::store::migrate(db);
    cohort::registration::webinar_input in;
    in.title = "Series";
    in.sessions = {cohort::registration::session_slot{0, 1768471200, 60}};
    webinar = cohort::registration::create_webinar(db, std::move(in), 1768471200 - 86400);
  }
};

}  // namespace

TEST_CASE("polls store: a poll round-trips, answers are keyed by (poll, registrant) and the newest wins", "[live_room][polls]") {
  store_fixture f;
  const auto id = insert_poll(f.db, f.webinar, poll_input{1, "Which?", "single", {"A", "B", "C"}}, 100);
  auto p = find_poll(f.db, f.webinar, id);
  REQUIRE(p);
  CHECK(p->input.options == std::vector<std::string>{"A", "B", "C"});
  CHECK(p->state == "draft");
  upsert_answer(f.db, f.webinar, id, 7, {0}, 1000);  // a draft takes no answers
  CHECK(tally_poll(f.db, *p).voters == 0);
  p->state = "open";
  p->opened_ms = 900;
  p->rev = save_poll_state(f.db, *p);
  CHECK(p->rev == 1);
  upsert_answer(f.db, f.webinar, id, 7, {0}, 1000);
  upsert_answer(f.db, f.webinar, id, 7, {2}, 2000);
  upsert_answer(f.db, f.webinar, id, 7, {1}, 1500);  // older, late: loses
  upsert_answer(f.db, f.webinar, id, 8, {2}, 1200);
  upsert_answer(f.db, f.webinar + 1, id, 9, {2}, 1200);  // not this webinar's poll
  auto t = tally_poll(f.db, *p);
  CHECK(t.counts == std::vector<std::int64_t>{0, 0, 2});
  CHECK(t.voters == 2);
  p->state = "closed";
  p->closed_ms = 1800;
  save_poll_state(f.db, *p);
  t = tally_poll(f.db, *find_poll(f.db, f.webinar, id));
  CHECK(t.counts == std::vector<std::int64_t>{0, 0, 1});  // 7's vote at 2000 came after the close
  const auto frames = poll_state_frames(f.db, f.webinar);
  REQUIRE(frames.size() == 3);
  CHECK(boost::json::parse(frames[0]).at("poll").at("state") == "closed");
}

TEST_CASE("polls: two votes of one registrant stamped the same millisecond settle the same way in the store and in every room",
          "[live_room][polls]") {
  store_fixture f;
  const auto id = insert_poll(f.db, f.webinar, poll_input{1, "Which?", "multiple", {"A", "B", "C"}}, 100);
  auto p = *find_poll(f.db, f.webinar, id);
  p.state = "open";
  p.rev = save_poll_state(f.db, p);
  upsert_answer(f.db, f.webinar, id, 7, {2}, 1000);
  upsert_answer(f.db, f.webinar, id, 7, {0, 1}, 1000);  // "[2]" > "[0,1]": kept
  upsert_answer(f.db, f.webinar, id, 8, {0, 1}, 1000);
  upsert_answer(f.db, f.webinar, id, 8, {2}, 1000);
  CHECK(tally_poll(f.db, p).counts == std::vector<std::int64_t>{0, 0, 2});
  // The x.vote frames the store gives a room carry the same answers.
  const auto frames = poll_state_frames(f.db, f.webinar);
  REQUIRE(frames.size() == 3);
  CHECK(boost::json::parse(frames[1]).at("choices") == boost::json::array{2});
  CHECK(boost::json::parse(frames[2]).at("choices") == boost::json::array{2});
}

#include "live_room/channels/polls/polls_channel.hpp"

#include "room_fixture.hpp"

#include <boost/json.hpp>
#include <catch2/catch.hpp>

namespace {

namespace json = boost::json;
using namespace cohort::live_room;
using namespace cohort::live_room::testing;

poll_row a_poll(std::int64_t id, std::string state, bool shown = false, std::int64_t rev = 1, std::string kind = "single",
                std::optional<std::int64_t> closed_ms = {}) {
  poll_row p;
  p.id = id;
  p.webinar_id = 1;
  p.input = poll_input{1, "Which one?", std::move(kind), {"Red", "Green", "Blue"}};
  p.state = std::move(state);
  p.shown = shown;
  p.rev = rev;
  p.opened_ms = 1000;
  p.closed_ms = closed_ms;
  return p;
}

// The room with the polls channel (no store: an edge's, or a primary's without writes here).
struct polls_fixture : room_fixture {
  explicit polls_fixture(std::chrono::milliseconds push_interval = std::chrono::milliseconds(100)) {
    polls_options o;
    o.push_interval = push_interval;
    channels.add(std::make_shared<polls_channel>(o, bus.get(), std::nullopt));
    open();
  }
  void publish_state(const std::string& frame) {
    bus->publish_state(1, channels.state_field(json::parse(frame).as_object()), frame);
    run();
  }
  void vote(const std::shared_ptr<fake_member>& m, std::int64_t poll, std::vector<int> choices) {
    json::array c;
    for (auto i : choices) c.emplace_back(i);
    send(m, json::object{{"type", "poll.vote"}, {"poll_id", poll}, {"choices", std::move(c)}});
  }
};

std::vector<std::int64_t> counts_of(const json::value& results) {
  std::vector<std::int64_t> out;
  for (const auto& c : results.at("counts").as_array()) out.push_back(c.to_number<std::int64_t>());
  return out;
}

// The last counts the member was pushed for `poll`.
std::vector<std::int64_t> last_pushed(const fake_member& m, std::int64_t poll) {
  std::vector<std::int64_t> out;
  for (const auto& f : m.of_type("poll.results"))
    for (const auto& r : f.at("results").as_array())
      if (r.at("poll_id").to_number<std::int64_t>() == poll) out = counts_of(r);
  return out;
}

}  // namespace

TEST_CASE("polls: an opened poll reaches everyone, votes reach the organizer, results reach attendees once shown", "[live_room][polls]") {
  polls_fixture f;
  auto host = f.join(organizer());
  auto a = f.join(registrant(7));
  auto b = f.join(registrant(8));
  f.publish_state(poll_frame(a_poll(1, "open")));
  REQUIRE(a->of_type("poll").size() == 1);
  CHECK(a->of_type("poll")[0].at("poll").at("question") == "Which one?");
  CHECK_FALSE(a->of_type("poll")[0].at("poll").as_object().contains("results"));
  CHECK(host->of_type("poll")[0].at("poll").as_object().contains("results"));

  f.vote(a, 1, {2});
  f.vote(b, 1, {0});
  f.run(std::chrono::milliseconds(250));
  CHECK(last_pushed(*host, 1) == std::vector<std::int64_t>{1, 0, 1});
  CHECK(a->of_type("poll.results").empty());  // not shown yet
  REQUIRE(a->of_type("poll.answer").size() == 1);
  CHECK(a->of_type("poll.answer")[0].at("choices").as_array() == json::array{2});
  CHECK(b->of_type("poll.answer")[0].at("choices").as_array() == json::array{0});

  f.publish_state(poll_frame(a_poll(1, "open", true, 2)));
  const auto shown = a->of_type("poll");
  REQUIRE(shown.size() == 2);
  CHECK(counts_of(shown[1].at("poll").at("results")) == std::vector<std::int64_t>{1, 0, 1});
  f.vote(b, 1, {1});  // changed while open: replaces, counted once
  f.run(std::chrono::milliseconds(250));
  CHECK(last_pushed(*a, 1) == std::vector<std::int64_t>{0, 1, 1});
  CHECK(last_pushed(*host, 1) == std::vector<std::int64_t>{0, 1, 1});
}

TEST_CASE("polls: a repeated or older vote frame never adds, and a vote after the close is not counted", "[live_room][polls]") {
  polls_fixture f;
  auto host = f.join(organizer());
  f.publish_state(poll_frame(a_poll(1, "open", false, 1, "multiple")));
  f.publish_state(vote_frame(1, 7, {0, 1}, 2000));
  f.publish_state(vote_frame(1, 7, {0, 1}, 2000));  // the same frame again (bus hash, store, live)
  f.publish_state(vote_frame(1, 7, {2}, 1500));     // older: arrives late, loses
  f.publish_state(vote_frame(1, 8, {2}, 2500));
  f.publish_state(vote_frame(1, 8, {0, 1}, 2500));  // the same millisecond: "[2]" > "[0,1]", as in the store
  f.run(std::chrono::milliseconds(250));
  CHECK(last_pushed(*host, 1) == std::vector<std::int64_t>{1, 1, 1});
  // Closed at 3000: a vote stamped later (published before this node saw the close) does not count.
  f.publish_state(poll_frame(a_poll(1, "closed", false, 2, "multiple", 3000)));
  f.publish_state(vote_frame(1, 9, {0}, 3500));
  f.run(std::chrono::milliseconds(250));
  auto late = f.join(organizer());
  const auto hello = late->of_type("hello").at(0);
  CHECK(counts_of(hello.at("polls").at(0).at("results")) == std::vector<std::int64_t>{1, 1, 1});
  CHECK(hello.at("polls").at(0).at("results").at("voters") == 2);
  // An older x.poll frame (rev 1: open) after the close changes nothing.
  f.publish_state(poll_frame(a_poll(1, "open", false, 1, "multiple")));
  auto again = f.join(organizer());
  CHECK(again->of_type("hello").at(0).at("polls").at(0).at("state") == "closed");
}

TEST_CASE("polls: the hello carries open and shown polls and the member's own answer", "[live_room][polls]") {
  polls_fixture f;
  f.publish_state(poll_frame(a_poll(1, "open")));
  f.publish_state(poll_frame(a_poll(2, "closed", false, 2, "single", 5000)));  // closed, not shown: hidden
  f.publish_state(poll_frame(a_poll(3, "closed", true, 3, "single", 5000)));
  f.publish_state(vote_frame(1, 7, {1}, 2000));
  f.publish_state(vote_frame(3, 8, {2}, 2000));
  auto a = f.join(registrant(7));
  const auto polls = a->of_type("hello").at(0).at("polls").as_array();
  REQUIRE(polls.size() == 2);
  CHECK(polls[0].at("id") == 1);
  CHECK(polls[0].at("answer").as_array() == json::array{1});
  CHECK_FALSE(polls[0].as_object().contains("results"));
  CHECK(polls[1].at("id") == 3);
  CHECK(polls[1].at("answer").is_null());
  CHECK(counts_of(polls[1].at("results")) == std::vector<std::int64_t>{0, 0, 1});
  auto host = f.join(organizer());
  CHECK(host->of_type("hello").at(0).at("polls").as_array().size() == 3);
}

TEST_CASE("polls: many votes cost the room at most one results frame per interval", "[live_room][polls]") {
  polls_fixture f(std::chrono::milliseconds(500));
  auto host = f.join(organizer());
  f.publish_state(poll_frame(a_poll(1, "open", true)));
  auto watcher = f.join(registrant(999));
  for (int i = 1; i <= 300; ++i) {
    auto v = vote_frame(1, i, {i % 3}, 1000 + i);
    f.bus->publish_state(1, "vote:1:" + std::to_string(i), v);
  }
  f.run(std::chrono::milliseconds(200));
  CHECK(host->of_type("poll.results").size() <= 1);
  f.run(std::chrono::milliseconds(700));
  const auto pushes = host->of_type("poll.results").size();
  CHECK(pushes >= 1);
  CHECK(pushes <= 2);
  CHECK(last_pushed(*host, 1) == std::vector<std::int64_t>{100, 100, 100});
  CHECK(last_pushed(*watcher, 1) == std::vector<std::int64_t>{100, 100, 100});
}

TEST_CASE("polls: votes are checked and limited; the organizer does not vote", "[live_room][polls]") {
  polls_fixture f;
  auto host = f.join(organizer());
  auto a = f.join(registrant(7));
  f.publish_state(poll_frame(a_poll(1, "open")));
  f.publish_state(poll_frame(a_poll(2, "closed", false, 2, "single", 1500)));
  auto error_code = [&a] { return std::string(a->of_type("error").back().at("code").as_string()); };
  f.vote(a, 1, {0, 1});
  CHECK(error_code() == "invalid");  // single choice
  f.vote(a, 1, {3});
  CHECK(error_code() == "invalid");  // no such option
  f.vote(a, 1, {});
  CHECK(error_code() == "invalid");
  f.vote(a, 2, {0});
  CHECK(error_code() == "closed");
  f.vote(a, 9, {0});
  CHECK(error_code() == "not_found");
  f.send(a, json::object{{"type", "poll.vote"}, {"poll_id", "1"}, {"choices", json::array{0}}});
  CHECK(error_code() == "invalid");
  f.vote(host, 1, {0});
  CHECK(host->of_type("error").back().at("code") == "forbidden");
  for (int i = 0; i < 5; ++i) f.vote(a, 1, {i % 3});
  const auto before = a->of_type("error").size();
  f.vote(a, 1, {0});
  REQUIRE(a->of_type("error").size() == before + 1);
  CHECK(error_code() == "rate_limited");
  CHECK(a->of_type("poll.answer").size() == 5);
}

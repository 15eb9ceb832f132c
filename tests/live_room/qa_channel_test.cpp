#include "live_room/channels/qa/qa_channel.hpp"

#include "live_room/channels/qa/qa_store.hpp"
#include "room_fixture.hpp"
#include "store/migrations.hpp"

#include <boost/json.hpp>
#include <catch2/catch.hpp>

namespace {

namespace json = boost::json;
using namespace cohort::live_room;
using namespace cohort::live_room::testing;

struct qa_fixture : room_fixture {
  std::vector<std::string> stored;
  explicit qa_fixture(bool open_now = true, qa_options o = fast()) {
    channels.add(std::make_shared<qa_channel>(o, bus.get(), std::nullopt));
    if (open_now) open();
  }
  static qa_options fast() {
    qa_options o;
    o.counts_interval = std::chrono::milliseconds(20);
    return o;
  }
  void state(const std::string& frame) {
    bus->publish_state(1, channels.state_field(json::parse(frame).as_object()), frame);
    run();
  }
  std::string ask(const std::shared_ptr<fake_member>& m, std::string text, bool anonymous = false) {
    const auto before = m->of_type("qa.question").size();
    send(m, json::object{{"type", "qa.ask"}, {"text", std::move(text)}, {"anonymous", anonymous}});
    const auto got = m->of_type("qa.question");
    REQUIRE(got.size() == before + 1);
    return std::string(got.back().at("question").at("id").as_string());
  }
  void vote(const std::shared_ptr<fake_member>& m, const std::string& id, bool up = true) {
    send(m, json::object{{"type", "qa.vote"}, {"id", id}, {"up", up}});
  }
};

json::object qa_hello(const fake_member& m) { return m.of_type("hello").at(0).at("qa").as_object(); }

std::vector<std::string> hello_ids(const fake_member& m) {
  std::vector<std::string> out;
  const auto qa = qa_hello(m);
  for (const auto& q : qa.at("questions").as_array()) out.emplace_back(q.at("id").as_string());
  return out;
}

std::vector<std::string> error_codes(const fake_member& m) {
  std::vector<std::string> out;
  for (const auto& e : m.of_type("error")) out.emplace_back(e.at("code").as_string());
  return out;
}

}  // namespace

TEST_CASE("qa: a question reaches everyone, the asker sees it as theirs, a later hello lists it", "[live_room][qa]") {
  qa_fixture f;
  auto a = f.join(registrant(7));
  auto b = f.join(registrant(8));
  const auto id = f.ask(a, "  What is the homework?  ");
  const auto mine = a->of_type("qa.question").at(0).at("question").as_object();
  CHECK(mine.at("text") == "What is the homework?");
  CHECK(mine.at("from") == "Person 7");
  CHECK(mine.at("votes") == 0);
  CHECK(mine.at("mine") == true);
  const auto theirs = b->of_type("qa.question").at(0).at("question").as_object();
  CHECK(theirs.at("id").as_string() == id);
  CHECK_FALSE(theirs.contains("mine"));
  CHECK_FALSE(theirs.contains("asker"));
  auto c = f.join(registrant(9));
  CHECK(hello_ids(*c) == std::vector<std::string>{id});
  CHECK(qa_hello(*c).at("pinned").is_null());
}

TEST_CASE("qa: questions are checked, anonymous only when the series allows it", "[live_room][qa]") {
  qa_fixture f;
  auto a = f.join(registrant(7));
  f.send(a, json::object{{"type", "qa.ask"}, {"text", std::string(301, 'x')}});
  f.send(a, json::object{{"type", "qa.ask"}, {"text", "   "}});
  f.send(a, json::object{{"type", "qa.ask"}, {"text", 5}});
  f.send(a, json::object{{"type", "qa.ask"}, {"text", "Who am I?"}, {"anonymous", true}});
  CHECK(error_codes(*a) == std::vector<std::string>{"invalid", "invalid", "invalid", "invalid"});
  CHECK(a->of_type("qa.question").empty());
  f.state(settings_frame(true, 1000));
  CHECK(a->of_type("qa.settings").at(0).at("anonymous") == true);
  f.ask(a, "Who am I?", true);
  auto b = f.join(registrant(8));
  const auto hello = qa_hello(*b);
  const auto& q = hello.at("questions").at(0).as_object();
  CHECK(q.at("from").is_null());
  CHECK(qa_hello(*b).at("anonymous") == true);
  const auto raw = b->received.front();
  CHECK(raw.find("Person 7") == std::string::npos);
}

TEST_CASE("qa: a vote counts once, can be withdrawn, and repeats change nothing", "[live_room][qa]") {
  qa_fixture f;
  auto a = f.join(registrant(7));
  auto b = f.join(registrant(8));
  const auto id = f.ask(a, "Q?");
  f.vote(b, id);
  f.vote(b, id);  // already up: nothing published
  f.run(std::chrono::milliseconds(60));
  auto counts = a->of_type("qa.counts");
  REQUIRE(counts.size() == 1);
  CHECK(counts.at(0).at("votes").at(id) == 1);
  CHECK(b->of_type("qa.voted").size() == 1);
  CHECK(a->of_type("qa.voted").empty());
  // The same vote event again (another node's copy, a replay from Redis): the set is unchanged.
  f.state(vote_frame(id, 8, true, 1));
  f.run(std::chrono::milliseconds(60));
  CHECK(a->of_type("qa.counts").size() == 1);
  auto c = f.join(registrant(8));
  CHECK(qa_hello(*c).at("questions").at(0).at("votes") == 1);
  CHECK(qa_hello(*c).at("voted").as_array() == json::array{json::string(id)});
  f.vote(b, id, false);
  f.run(std::chrono::milliseconds(60));
  counts = a->of_type("qa.counts");
  REQUIRE(counts.size() == 2);
  CHECK(counts.at(1).at("votes").at(id) == 0);
  CHECK(c->of_type("qa.voted").back().at("up") == false);  // every tab of the voter hears it
}

TEST_CASE("qa: a vote storm is coalesced into few count frames", "[live_room][qa]") {
  qa_options o;
  o.counts_interval = std::chrono::milliseconds(200);
  qa_fixture f(true, o);
  auto a = f.join(organizer());
  auto asker = f.join(registrant(1));
  const auto id = f.ask(asker, "Storm?");
  for (int voter = 100; voter < 400; ++voter) f.bus->publish_state(1, "qv:" + id + ":" + std::to_string(voter), vote_frame(id, voter, true, 5));
  f.run(std::chrono::milliseconds(400));
  const auto counts = a->of_type("qa.counts");
  REQUIRE_FALSE(counts.empty());
  CHECK(counts.size() <= 2);
  CHECK(counts.back().at("votes").at(id) == 300);
}

TEST_CASE("qa: the latest vote change wins in any order", "[live_room][qa]") {
  qa_fixture f;
  auto a = f.join(registrant(7));
  const auto id = f.ask(a, "Order?");
  f.state(vote_frame(id, 8, false, 30));  // the withdrawal arrives before the vote it withdraws
  f.state(vote_frame(id, 8, true, 20));
  f.state(vote_frame(id, 9, true, 40));
  f.state(vote_frame(id, 9, false, 40));  // same instant: the withdrawal wins, in either order
  auto b = f.join(registrant(10));
  CHECK(qa_hello(*b).at("questions").at(0).at("votes") == 0);
}

TEST_CASE("qa: hello orders by votes, then time, and keeps the top N", "[live_room][qa]") {
  qa_options o = qa_fixture::fast();
  o.hello_questions = 2;
  qa_fixture f(true, o);
  f.state(question_frame("000000000000000a", 1, "A", false, "first", 1000));
  f.state(question_frame("000000000000000b", 2, "B", false, "second", 2000));
  f.state(question_frame("000000000000000c", 3, "C", false, "third", 3000));
  f.state(vote_frame("000000000000000c", 5, true, 1));
  auto m = f.join(registrant(9));
  CHECK(hello_ids(*m) == std::vector<std::string>{"000000000000000c", "000000000000000a"});
  CHECK(qa_hello(*m).at("total") == 3);
}

TEST_CASE("qa: the organizer answers, pins and dismisses; the asker deletes their own", "[live_room][qa]") {
  qa_fixture f;
  auto host = f.join(organizer());
  auto a = f.join(registrant(7));
  auto b = f.join(registrant(8));
  const auto q1 = f.ask(a, "One?");
  const auto q2 = f.ask(a, "Two?");
  const auto q3 = f.ask(b, "Three?");
  f.send(b, json::object{{"type", "qa.moderate"}, {"id", q1}, {"action", "pin"}});
  f.send(b, json::object{{"type", "qa.delete"}, {"id", q1}});
  CHECK(error_codes(*b) == std::vector<std::string>{"forbidden", "forbidden"});
  f.send(host, json::object{{"type", "qa.moderate"}, {"id", q1}, {"action", "pin"}});
  CHECK(b->of_type("qa.pinned").at(0).at("question").at("id").as_string() == q1);
  f.send(host, json::object{{"type", "qa.moderate"}, {"id", q1}, {"action", "answered"}});
  CHECK(b->of_type("qa.status").at(0).at("status") == "answered");
  f.send(host, json::object{{"type", "qa.moderate"}, {"id", q3}, {"action", "dismissed"}});
  f.send(a, json::object{{"type", "qa.delete"}, {"id", q2}});
  f.send(b, json::object{{"type", "qa.vote"}, {"id", q2}});
  CHECK(error_codes(*b).back() == "not_found");
  auto c = f.join(registrant(9));
  CHECK(hello_ids(*c) == std::vector<std::string>{q1});
  CHECK(qa_hello(*c).at("questions").at(0).at("status") == "answered");
  CHECK(qa_hello(*c).at("pinned").at("id").as_string() == q1);
  f.send(host, json::object{{"type", "qa.moderate"}, {"action", "unpin"}});
  CHECK(c->of_type("qa.pinned").back().at("question").is_null());
}

TEST_CASE("qa: members are rate limited, the organizer is not", "[live_room][qa]") {
  qa_fixture f;
  auto a = f.join(registrant(7));
  auto host = f.join(organizer());
  f.ask(a, "1?");
  f.ask(a, "2?");
  f.send(a, json::object{{"type", "qa.ask"}, {"text", "3?"}});
  CHECK(error_codes(*a) == std::vector<std::string>{"rate_limited"});
  for (int i = 0; i < 5; ++i) f.ask(host, "host " + std::to_string(i));
  CHECK(host->of_type("error").empty());
}

TEST_CASE("qa: a room starts from the store, votes counted once", "[live_room][qa]") {
  cohort::store::database db(":memory:");
  cohort::store::migrate(db);
  db.exec("PRAGMA foreign_keys = OFF");
  insert_question(db, 1, stored_question{"00000000000000aa", 7, "Ada", false, "Stored?", 5000});
  insert_question(db, 1, stored_question{"00000000000000aa", 7, "Ada", false, "Stored?", 5000});
  put_vote(db, 1, "00000000000000aa", 8, true, 10);
  put_vote(db, 1, "00000000000000aa", 8, true, 10);
  put_vote(db, 1, "00000000000000aa", 9, true, 10);
  put_vote(db, 1, "00000000000000aa", 9, false, 5);  // older: loses
  put_pin(db, 1, std::string("00000000000000aa"), 100);
  put_anonymous(db, 1, true, 100);
  raise_status(db, 1, "00000000000000aa", "answered");
  raise_status(db, 1, "00000000000000aa", "answered");

  int rows = 0;
  for_each_question(db, 1, [&rows](const question_row& r) {
    ++rows;
    CHECK(r.votes == 2);
    CHECK(r.status == "answered");
  });
  CHECK(rows == 1);

  qa_fixture f(false);
  auto frames = qa_state_frames(db, 1);
  CHECK(frames.size() == 6);
  f.channels = channel_registry{};
  struct stored_qa : qa_channel {
    std::vector<std::string> frames;
    stored_qa(std::vector<std::string> fr, room_bus* bus) : qa_channel(qa_options{}, bus, std::nullopt), frames(std::move(fr)) {}
    std::vector<std::string> stored_state(std::int64_t) const override { return frames; }
  };
  f.channels.add(std::make_shared<stored_qa>(frames, f.bus.get()));
  room_options o;
  o.load_stored_state = true;
  f.open(o);
  auto m = f.join(registrant(8));
  const auto hello = qa_hello(*m);
  CHECK(hello.at("questions").at(0).at("votes") == 2);
  CHECK(hello.at("questions").at(0).at("status") == "answered");
  CHECK(hello.at("voted").as_array().size() == 1);
  CHECK(hello.at("pinned").at("id") == "00000000000000aa");
  CHECK(hello.at("anonymous") == true);
}

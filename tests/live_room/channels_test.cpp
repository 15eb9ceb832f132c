#include "live_room/channels/drops/drops_channel.hpp"

#include "live_room/channels/chat/chat_channel.hpp"
#include "live_room/channels/stream/stream_channel.hpp"
#include "common/rfc3339.hpp"
#include "room_fixture.hpp"

#include <boost/json.hpp>
#include <catch2/catch.hpp>

namespace {

namespace json = boost::json;
using namespace cohort::live_room;
using namespace cohort::live_room::testing;

constexpr std::int64_t t0 = 1768471200;  // 2026-01-15T10:00:00Z

// An x.drop frame as drop_store writes it; no `to` = for everyone.
std::string a_drop(std::int64_t id, std::int64_t released_at, std::optional<std::vector<std::int64_t>> to = {}, std::string title = "Drop") {
  json::object view{{"id", id}, {"title", std::move(title)}, {"body", "text"}, {"url", nullptr}, {"file", nullptr},
                    {"released_at", cohort::common::format_rfc3339(released_at)}};
  json::value audience = nullptr;
  if (to) {
    json::array ids;
    for (auto i : *to) ids.push_back(i);
    audience = std::move(ids);
  }
  return drop_frame(std::move(view), std::move(audience));
}

// The room with the chat, drops and stream channels; `stored` is what the drops store holds.
struct channels_fixture : room_fixture {
  std::vector<std::string> stored;
  explicit channels_fixture(bool load_stored = false) {
    channels.add(std::make_shared<chat_channel>(chat_options{}, bus.get(), std::nullopt, nullptr));
    channels.add(std::make_shared<drops_channel>([this](std::int64_t) { return stored; }));
    channels.add(std::make_shared<stream_channel>());
    if (!load_stored) open();
  }
  void open_loaded() {
    room_options o;
    o.load_stored_state = true;
    open(o);
  }
  void publish_state(const std::string& frame) {
    bus->publish_state(1, channels.state_field(json::parse(frame).as_object()), frame);
    run();
  }
};

std::vector<std::int64_t> drop_ids(const fake_member& m) {
  std::vector<std::int64_t> out;
  const auto hello = m.of_type("hello");
  for (const auto& d : hello.at(0).at("drops").as_array()) out.push_back(d.at("id").to_number<std::int64_t>());
  return out;
}

std::vector<bool> drop_seen(const fake_member& m) {
  std::vector<bool> out;
  const auto hello = m.of_type("hello");
  for (const auto& d : hello.at(0).at("drops").as_array()) out.push_back(d.at("seen").as_bool());
  return out;
}

}  // namespace

TEST_CASE("drops: hello lists the drops released to each member, newest first, with seen", "[live_room][drops]") {
  channels_fixture f(true);
  // Out of order: the list is ordered by release time, not arrival.
  f.stored = {a_drop(3, t0 + 300), a_drop(1, t0 + 100, std::vector<std::int64_t>{7}), a_drop(2, t0 + 200, std::vector<std::int64_t>{8}),
              a_drop(4, t0 + 400, std::vector<std::int64_t>{7, 8}), a_drop(5, t0 + 400), seen_frame(7, t0 + 300),
              seen_frame(7, t0 + 100)};  // an older marker later does not move it back
  f.open_loaded();
  auto m7 = f.join(registrant(7));
  CHECK(drop_ids(*m7) == std::vector<std::int64_t>{5, 4, 3, 1});
  CHECK(drop_seen(*m7) == std::vector<bool>{false, false, true, true});
  auto m8 = f.join(registrant(8));
  CHECK(drop_ids(*m8) == std::vector<std::int64_t>{5, 4, 3, 2});
  CHECK(drop_seen(*m8) == std::vector<bool>{false, false, false, false});
  auto m9 = f.join(registrant(9));
  CHECK(drop_ids(*m9) == std::vector<std::int64_t>{5, 3});
  auto host = f.join(organizer());
  CHECK(drop_ids(*host) == std::vector<std::int64_t>{5, 4, 3, 2, 1});
  CHECK(drop_seen(*host) == std::vector<bool>{true, true, true, true, true});
  const auto first = json::object(m7->of_type("hello")[0].at("drops").as_array()[0].as_object());
  CHECK(first.at("title").as_string() == "Drop");
  CHECK(first.at("released_at").as_string() == cohort::common::format_rfc3339(t0 + 400));
}

TEST_CASE("drops: a released drop is pushed once, to the members it is for", "[live_room][drops]") {
  channels_fixture f;
  auto m4 = f.join(registrant(4));
  auto m5 = f.join(registrant(5));
  auto host = f.join(organizer());
  f.publish_state(a_drop(1, t0, std::vector<std::int64_t>{4}, "Slides"));
  f.publish_state(a_drop(1, t0 + 50, std::nullopt, "Other"));  // a repeat, even changed, is not a new release
  REQUIRE(m4->of_type("drop").size() == 1);
  const auto event = json::object(m4->of_type("drop")[0].at("drop").as_object());
  CHECK(event.at("title").as_string() == "Slides");
  CHECK(event.at("seen").as_bool() == false);
  CHECK(m5->of_type("drop").empty());
  CHECK(host->of_type("drop").size() == 1);
  // Nobody attended: for no registrant, but the organizer still sees it.
  f.publish_state(a_drop(2, t0, std::vector<std::int64_t>{}));
  CHECK(m4->of_type("drop").size() == 1);
  CHECK(host->of_type("drop").size() == 2);
}

TEST_CASE("chat: a mute refuses the registrant's messages and only ever extends", "[live_room][chat]") {
  channels_fixture f;
  auto m = f.join(registrant(7));
  const auto now = cohort::common::unix_now();
  f.publish_state(mute_frame(7, now + 600));
  f.publish_state(mute_frame(7, now + 60));  // shorter, later: does not shorten it
  f.send(m, json::object{{"type", "chat.send"}, {"text", "hello?"}});
  const auto errors = m->of_type("error");
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].at("code").as_string() == "muted");
  CHECK(errors[0].at("until").as_string() == cohort::common::format_rfc3339(now + 600));
  CHECK(m->of_type("chat.message").empty());
  auto other = f.join(registrant(8));  // per registrant
  f.send(other, json::object{{"type", "chat.send"}, {"text", "fine"}});
  CHECK(other->of_type("chat.message").size() == 1);
}

TEST_CASE("stream: the newest x.stream wins; a joiner gets the status after its hello while live", "[live_room][stream]") {
  channels_fixture f;
  auto a = f.join(registrant(1));
  f.publish_state(stream_frame(true, 2000, t0, 1));
  f.publish_state(stream_frame(false, 1000, t0, 1));  // older: ignored
  REQUIRE(a->of_type("stream.status").size() == 1);
  CHECK(a->of_type("stream.status")[0].at("live").as_bool());
  CHECK(a->of_type("stream.status")[0].at("session").to_number<int>() == 1);
  auto b = f.join(registrant(2));
  CHECK(b->types() == std::vector<std::string>{"hello", "stream.status"});
  f.publish_state(stream_frame(false, 3000, t0, std::nullopt));
  CHECK_FALSE(b->of_type("stream.status").back().at("live").as_bool());
  auto c = f.join(registrant(3));
  CHECK(c->types() == std::vector<std::string>{"hello"});
}

TEST_CASE("the room drops a malformed state frame and goes on", "[live_room]") {
  channels_fixture f;
  auto a = f.join(organizer());
  for (const auto* bad : {R"({"type":"x.mute","until":5})", R"({"type":"x.drop"})", R"({"type":"x.drop","drop":"no"})",
                          R"({"type":"x.seen","at":5})", R"({"type":"x.stream","at":"soon"})"}) {
    f.bus->publish_control(1, bad);
    f.run();
  }
  auto bad_time = json::parse(a_drop(2, t0)).as_object();
  bad_time["drop"].as_object()["released_at"] = "yesterday";
  f.bus->publish_control(1, json::serialize(bad_time));
  f.run();
  f.publish_state(a_drop(2, t0));  // the same id, now valid: it was not left behind
  CHECK(a->of_type("drop").size() == 1);
}

TEST_CASE("state fields: each channel names the field the bus keeps its frames under", "[live_room]") {
  channels_fixture f;
  auto field = [&](const std::string& frame) { return f.channels.state_field(json::parse(frame).as_object()); };
  CHECK(field(mute_frame(7, t0)) == "mute:7");
  CHECK(field(seen_frame(12, t0)) == "seen:12");
  CHECK(field(a_drop(3, t0)) == "drop:3");
  CHECK(field(a_drop(42, t0, std::vector<std::int64_t>{1})) == "drop:42");
  CHECK(field(stream_frame(true, 1, t0, std::nullopt)) == "stream");
  CHECK_THROWS(field(R"({"type":"chat.message"})"));
  CHECK_THROWS(field(R"({"type":"x.ban","registration_id":1})"));
  CHECK_THROWS(field(R"({"type":"x.mute"})"));
  CHECK_THROWS(field("{}"));
}

#include "live_room/room.hpp"

#include "live_room/channels/chat/chat_channel.hpp"
#include "live_room/channels/presence/presence_channel.hpp"
#include "room_fixture.hpp"

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include <map>

namespace {

namespace json = boost::json;
using namespace cohort::live_room;
using namespace cohort::live_room::testing;

chat_options quick_flood() {
  chat_options o;
  o.flood.burst = 3;
  o.flood.window = std::chrono::milliseconds(60000);
  o.flood.penalty = std::chrono::milliseconds(60000);
  return o;
}

struct chat_room_fixture : room_fixture {
  chat_room_fixture() {
    channels.add(std::make_shared<chat_channel>(quick_flood(), bus.get(), std::nullopt, nullptr));
    channels.add(std::make_shared<presence_channel>());
    open();
  }
  void say(const std::shared_ptr<fake_member>& from, std::string text, std::string client_id = {}) {
    json::object msg{{"type", "chat.send"}, {"text", std::move(text)}};
    if (!client_id.empty()) msg["client_id"] = client_id;
    send(from, std::move(msg));
  }
};

std::vector<std::string> texts(const fake_member& m) {
  std::vector<std::string> out;
  for (const auto& f : m.of_type("chat.message")) out.emplace_back(f.at("text").as_string());
  return out;
}

// A channel the test registers itself: proves the room dispatches by type through the registry.
// "toy.poke" from a member publishes an x.toy state frame; every x.toy is kept by its "key" and
// listed in hello as "toys"; the store holds `stored` for the room to start from.
class toy_channel : public channel {
 public:
  std::vector<std::string> stored;
  std::vector<std::string> pokes;  // who poked, as the channel saw it

  std::string_view name() const override { return "toy"; }
  channel_types types() const override { return {{"toy.poke"}, {}, {}, {"x.toy"}}; }
  std::string state_field(const json::object& frame) const override { return "toy:" + std::string(frame.at("key").as_string()); }
  std::vector<std::string> stored_state(std::int64_t) const override { return stored; }
  std::unique_ptr<channel_room> open(room_context& room) override { return std::make_unique<part>(*this, room); }

 private:
  class part : public channel_room {
   public:
    part(toy_channel& c, room_context& room) : c_(c), room_(room) {}
    void on_client(const member_ptr& from, std::string_view, const json::object& msg) override {
      c_.pokes.push_back(from->who().name);
      const auto frame = json::serialize(json::object{{"type", "x.toy"}, {"key", msg.at("key")}});
      room_.bus().publish_state(room_.webinar_id(), c_.state_field(json::parse(frame).as_object()), frame);
    }
    void on_state(const json::object& frame, bool live) override {
      const auto key = std::string(frame.at("key").as_string());
      if (!toys_.emplace(key, true).second) return;  // idempotent
      if (live) room_.broadcast(std::make_shared<const std::string>(json::serialize(json::object{{"type", "toy"}, {"key", key}})));
    }
    void add_to_hello(const member_identity&, json::object& hello) override {
      json::array keys;
      for (const auto& [k, _] : toys_) keys.push_back(json::string(k));
      hello["toys"] = std::move(keys);
    }

   private:
    toy_channel& c_;
    room_context& room_;
    std::map<std::string, bool> toys_;
  };
};

}  // namespace

TEST_CASE("room: a member gets a hello with the room's seq, epoch and what each channel adds", "[live_room]") {
  chat_room_fixture f;
  auto a = f.join(registrant(7));
  const auto hello = a->of_type("hello");
  REQUIRE(hello.size() == 1);
  CHECK(hello[0].at("me").at("id").to_number<int>() == 7);
  CHECK(hello[0].at("room").to_number<int>() == 1);
  CHECK(hello[0].at("seq").to_number<int>() == 0);
  CHECK_FALSE(hello[0].at("epoch").as_string().empty());
  CHECK(hello[0].at("recovered").as_bool() == false);
  CHECK(hello[0].at("messages").as_array().empty());
  CHECK(hello[0].at("presence").to_number<int>() == 1);  // the presence channel's
}

TEST_CASE("room: messages reach every member in the bus's order, batched per turn", "[live_room]") {
  chat_room_fixture f;
  auto a = f.join(registrant(1));
  auto b = f.join(registrant(2));
  const auto writes_before = b->writes;
  f.r->client_message(a, *f.channels.client_route("chat.send"), json::object{{"type", "chat.send"}, {"text", "one"}});
  f.r->client_message(a, *f.channels.client_route("chat.send"), json::object{{"type", "chat.send"}, {"text", "two"}});
  f.r->client_message(a, *f.channels.client_route("chat.send"), json::object{{"type", "chat.send"}, {"text", "three"}, {"client_id", "c3"}});
  f.run();
  CHECK(texts(*a) == std::vector<std::string>{"one", "two", "three"});
  CHECK(texts(*b) == std::vector<std::string>{"one", "two", "three"});
  const auto seqs = b->of_type("chat.message");
  CHECK(seqs[0].at("seq").to_number<int>() == 1);
  CHECK(seqs[2].at("seq").to_number<int>() == 3);
  // Only the sender's echo carries its client_id.
  CHECK(a->of_type("chat.message")[2].at("client_id").as_string() == "c3");
  CHECK_FALSE(seqs[2].contains("client_id"));
  // Three messages in one strand turn: one write to b, not three.
  CHECK(b->writes - writes_before <= 2);
}

TEST_CASE("room: catch-up since a seq gives what was missed, under the same epoch only", "[live_room]") {
  chat_room_fixture f;
  auto a = f.join(organizer());
  for (auto t : {"m1", "m2", "m3"}) f.say(a, t);
  const auto epoch = std::string(a->of_type("hello")[0].at("epoch").as_string());

  auto back = f.join(registrant(4), 1, epoch);
  const auto hello = back->of_type("hello")[0];
  CHECK(hello.at("recovered").as_bool());
  CHECK(hello.at("seq").to_number<int>() == 3);
  const auto& missed = hello.at("messages").as_array();
  REQUIRE(missed.size() == 2);
  CHECK(missed[0].at("text").as_string() == "m2");
  CHECK(missed[1].at("text").as_string() == "m3");

  auto stranger = f.join(registrant(5), 1, std::string("another-epoch"));
  const auto fresh = stranger->of_type("hello")[0];
  CHECK_FALSE(fresh.at("recovered").as_bool());
  CHECK(fresh.at("messages").as_array().size() == 3);  // the last ones, to start over from
}

TEST_CASE("room: organizers are not flood limited, registrants are", "[live_room][chat]") {
  chat_room_fixture f;
  auto host = f.join(organizer());
  auto person = f.join(registrant(9));
  for (int i = 0; i < 10; ++i) f.say(host, "host " + std::to_string(i));
  CHECK(host->of_type("error").empty());
  CHECK(texts(*person).size() == 10);

  for (int i = 0; i < 5; ++i) f.say(person, "me " + std::to_string(i));
  const auto errors = person->of_type("error");
  REQUIRE(errors.size() == 2);  // burst 3: the 4th and 5th are refused
  CHECK(errors[0].at("code").as_string() == "rate_limited");
}

TEST_CASE("room: presence counts people, not sockets", "[live_room][presence]") {
  chat_room_fixture f;
  auto tab1 = f.join(registrant(7));
  auto tab2 = f.join(registrant(7));
  auto tab3 = f.join(registrant(7));
  auto other = f.join(registrant(8));
  CHECK(other->of_type("hello")[0].at("presence").to_number<int>() == 2);
  f.r->leave(tab1);
  f.r->leave(tab2);
  f.run();
  auto late = f.join(registrant(9));
  CHECK(late->of_type("hello")[0].at("presence").to_number<int>() == 3);  // 7 (one tab left), 8, 9
}

TEST_CASE("presence: the interval between presence frames grows with the room, not the join rate", "[live_room][presence]") {
  presence_channel p({std::chrono::milliseconds(1000), 2000});
  CHECK(p.interval_for(10) == std::chrono::milliseconds(1000));
  CHECK(p.interval_for(2000) == std::chrono::milliseconds(1000));
  CHECK(p.interval_for(20000) == std::chrono::milliseconds(10000));
}

TEST_CASE("room: a channel registered by the test gets its client type, and its state is in hello and survives a re-load",
          "[live_room][channel]") {
  room_fixture f;
  auto toy = std::make_shared<toy_channel>();
  f.channels.add(toy);
  f.open();
  auto a = f.join(registrant(1));
  f.send(a, json::object{{"type", "toy.poke"}, {"key", "red"}});
  CHECK(toy->pokes == std::vector<std::string>{"Person 1"});
  CHECK(a->types().back() == "toy");  // the state went round the bus and came back live
  f.send(a, json::object{{"type", "toy.poke"}, {"key", "red"}});  // the same state again: nothing new
  CHECK(a->of_type("toy").size() == 1);
  auto b = f.join(registrant(2));
  CHECK(b->of_type("hello")[0].at("toys") == json::value(json::array{"red"}));

  // A new room (a restarted node) starts from the channel's stored state, before any hello.
  toy->stored = {R"({"type":"x.toy","key":"red"})", R"({"type":"x.toy","key":"blue"})"};
  room_options primary;
  primary.load_stored_state = true;
  f.open(primary, 2);
  auto c = f.join(registrant(3));
  CHECK(c->of_type("hello")[0].at("toys") == json::value(json::array{"blue", "red"}));
  CHECK(c->of_type("toy").empty());  // loaded, not announced
  CHECK(f.channels.state_field(json::parse(toy->stored[1]).as_object()) == "toy:blue");
}

TEST_CASE("registry: a type belongs to one channel, unknown types have no route", "[live_room][channel]") {
  channel_registry reg;
  reg.add(std::make_shared<toy_channel>());
  CHECK_THROWS_AS(reg.add(std::make_shared<toy_channel>()), std::logic_error);
  CHECK(reg.client_route("toy.poke"));
  CHECK_FALSE(reg.client_route("chat.send"));
  CHECK_FALSE(reg.event_route("toy.poke"));
  CHECK(reg.event_route("x.toy")->what == channel_registry::kind::state);
  CHECK(reg.client_types_text() == "toy.poke");
}

TEST_CASE("room: stop closes the members, leaves the bus and reports idle", "[live_room]") {
  chat_room_fixture f;
  auto a = f.join(registrant(1));
  CHECK_FALSE(f.r->idle_since());
  f.r->leave(a);
  f.run();
  CHECK(f.r->idle_since());
  auto b = f.join(registrant(2));
  f.r->stop();
  f.run();
  CHECK(b->closed_with == 1001);
  // Unwatched: what is published for the webinar no longer reaches the room.
  const auto before = b->received.size();
  f.bus->publish_control(1, R"({"type":"chat.deleted","id":"x-1"})");
  f.run();
  CHECK(b->received.size() == before);
}

TEST_CASE("room: a room made again after it was dropped starts from the bus's history (local bus too)", "[live_room]") {
  chat_room_fixture f;
  auto a = f.join(organizer());
  for (auto t : {"kept", "deleted", "also kept"}) f.say(a, t);
  const auto epoch = std::string(a->of_type("hello")[0].at("epoch").as_string());
  const auto deleted_id = std::string(a->of_type("chat.message")[1].at("id").as_string());
  f.bus->publish_control(1, json::serialize(json::object{{"type", "chat.deleted"}, {"id", deleted_id}}));
  f.run();
  f.r->stop();
  f.run();
  f.open();  // the hub makes a new room for the next member
  auto b = f.join(registrant(2));
  const auto hello = b->of_type("hello")[0];
  CHECK(hello.at("epoch").as_string() == epoch);
  CHECK(hello.at("seq").to_number<int>() == 3);
  const auto& messages = hello.at("messages").as_array();
  REQUIRE(messages.size() == 2);
  CHECK(messages[0].at("text").as_string() == "kept");
  CHECK(messages[1].at("text").as_string() == "also kept");
  f.say(b, "next");
  CHECK(b->of_type("chat.message").back().at("seq").to_number<int>() == 4);
}

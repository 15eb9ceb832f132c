// The chat on a primary (with a store): a live message goes out only once its transcript row is
// committed, so an echo means the message survives a crash; one whose write fails is withdrawn
// in its place in the order. Real SQLite file, real writer thread; the room runs on this thread.
#include "live_room/channels/chat/chat_channel.hpp"

#include "../store/migrated_file.hpp"
#include "../store/temp_database_file.hpp"
#include "registration/webinar_store.hpp"
#include "room_fixture.hpp"
#include "store/sqlite_writer.hpp"

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include <future>

namespace {

namespace json = boost::json;
using namespace cohort::live_room;
using namespace cohort::live_room::testing;
using cohort::store::database;

struct primary_chat : room_fixture {
  cohort::test::temp_database_file file;
  cohort::store::sqlite_writer writer{cohort::test::open_migrated(file.path()), {}};
  std::int64_t webinar = 0;

  primary_chat() {
    write([this](database& db) {
      cohort::registration::webinar_input in;
      in.title = "Infant massage";
      in.sessions.push_back({0, 1768471200, 60});
      webinar = cohort::registration::create_webinar(db, std::move(in), 1768471200);
    });
    store_access store{cohort::registration::write_path{&writer, {}}, nullptr};
    chat_options chat;
    chat.flood.burst = 100;  // the flood limit is not what these tests are about
    channels.add(std::make_shared<chat_channel>(chat, bus.get(), store, nullptr));
    open({}, webinar);
  }
  ~primary_chat() { writer.stop(); }

  // Waits for fn's commit (every write queued before it has completed and posted to the room),
  // then lets the room run.
  void write(cohort::store::sqlite_writer::work fn) {
    cohort::test::commit(writer, std::move(fn));
    run();
  }
  void say(const std::shared_ptr<fake_member>& from, std::string text, std::string client_id) {
    send(from, json::object{{"type", "chat.send"}, {"text", std::move(text)}, {"client_id", std::move(client_id)}});
  }
  std::vector<std::string> transcript() {
    std::vector<std::string> out;
    write([&](database& db) {
      auto st = db.prepare("SELECT text FROM chat_messages ORDER BY seq");
      while (st.step()) out.push_back(st.text(0));
    });
    return out;
  }
};

std::vector<std::string> texts(const fake_member& m) {
  std::vector<std::string> out;
  for (const auto& f : m.of_type("chat.message")) out.emplace_back(f.at("text").as_string());
  return out;
}

}  // namespace

TEST_CASE("chat on the primary: no one gets a message before its transcript row is committed", "[live_room][chat]") {
  primary_chat f;
  auto a = f.join(registrant(1));
  auto b = f.join(registrant(2));

  // Hold the writer: the message is sequenced, but its row cannot commit yet.
  std::promise<void> gate;
  auto opened = gate.get_future().share();
  REQUIRE(f.writer.submit([opened](database&) { opened.wait(); }, nullptr));
  f.say(a, "first", "c1");
  f.say(b, "second", "c2");
  f.run();
  CHECK(a->of_type("chat.message").empty());
  CHECK(b->of_type("chat.message").empty());
  // A newcomer's hello stops at what went out; the held ones reach it with everyone.
  auto c = f.join(registrant(3));
  const auto hello = c->of_type("hello").at(0);
  CHECK(hello.at("seq").to_number<int>() == 0);
  CHECK(hello.at("messages").as_array().empty());

  gate.set_value();
  CHECK(f.transcript() == std::vector<std::string>{"first", "second"});
  for (const auto& m : {a, b, c}) CHECK(texts(*m) == std::vector<std::string>{"first", "second"});
  CHECK(a->of_type("chat.message").at(0).at("client_id").as_string() == "c1");
  CHECK(c->of_type("chat.message").at(1).at("seq").to_number<int>() == 2);
  auto d = f.join(registrant(4));
  CHECK(d->of_type("hello").at(0).at("seq").to_number<int>() == 2);
  CHECK(d->of_type("hello").at(0).at("messages").as_array().size() == 2);
}

TEST_CASE("chat on the primary: a message whose write fails is withdrawn in its place, the sender told, a resend taken",
          "[live_room][chat]") {
  primary_chat f;
  auto a = f.join(registrant(1));
  auto b = f.join(registrant(2));
  f.write([](database& db) {
    db.exec("CREATE TRIGGER refuse_two BEFORE INSERT ON chat_messages WHEN NEW.text = 'two' BEGIN SELECT RAISE(ABORT, 'disk on fire'); END");
  });
  std::promise<void> gate;
  auto opened = gate.get_future().share();
  REQUIRE(f.writer.submit([opened](database&) { opened.wait(); }, nullptr));
  f.say(a, "one", "c1");
  f.say(a, "two", "c2");
  f.say(a, "three", "c3");
  gate.set_value();
  CHECK(f.transcript() == std::vector<std::string>{"one", "three"});

  CHECK(texts(*b) == std::vector<std::string>{"one", "three"});
  CHECK(b->of_type("error").empty());
  // The sender hears about each send in the order it sent them: echo, refusal, echo.
  std::vector<std::string> seen;
  for (const auto& frame : a->received) {
    const auto o = json::parse(frame).as_object();
    if (o.at("type") == "chat.message") seen.emplace_back(o.at("text").as_string());
    if (o.at("type") == "error") seen.emplace_back(o.at("code").as_string());
  }
  CHECK(seen == std::vector<std::string>{"one", "unavailable", "three"});
  auto c = f.join(registrant(3));
  CHECK(c->of_type("hello").at(0).at("messages").as_array().size() == 2);

  // Sent again with the same client_id once the store takes it: a new message, not a repeat.
  f.write([](database& db) { db.exec("DROP TRIGGER refuse_two"); });
  f.say(a, "two", "c2");
  f.write([](database&) {});
  CHECK(f.transcript() == std::vector<std::string>{"one", "three", "two"});
  CHECK(texts(*b) == std::vector<std::string>{"one", "three", "two"});
  CHECK(a->of_type("chat.message").back().at("client_id").as_string() == "c2");
  CHECK(a->of_type("error").size() == 1);
}

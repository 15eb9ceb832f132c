#include "live_room/room.hpp"

#include "live_room/channels/chat/chat_channel.hpp"
#include "live_room/channels/presence/presence_channel.hpp"
#include "live_room/redis_bus.hpp"
#include "../bus/redis_server.hpp"
#include "room_fixture.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include <condition_variable>
#include <mutex>
#include <thread>

// The room as the server runs it: its io_context on several threads and joins, messages and
// leaves arriving from others. The ThreadSanitizer build (tests/tsan/run.sh) runs this to check
// that the strand and the bus are all the synchronization the room needs, with the local bus and
// with two nodes' Redis buses against a real redis-server.

namespace {

namespace json = boost::json;
using namespace cohort::live_room;

// The room calls a member on its strand, which may be any of the io_context's threads; the test
// reads what arrived from its own thread, hence the lock.
class locked_member : public room_member {
 public:
  explicit locked_member(member_identity who) : who_(std::move(who)) {}
  const member_identity& who() const override { return who_; }
  void deliver(frame_ptr frame) override { queued_.push_back(std::move(frame)); }
  void flush() override {
    std::lock_guard lock(mutex_);
    for (auto& f : queued_) {
      const auto v = json::parse(*f).as_object();
      if (v.at("type") == "chat.message") texts_.emplace_back(v.at("text").as_string());
      if (v.at("type") == "hello") greeted_ = true;
    }
    queued_.clear();
    changed_.notify_all();
  }
  void send_batch(const std::vector<frame_ptr>& frames) override {
    for (const auto& f : frames) deliver(f);
    flush();
  }
  void disconnect(std::uint16_t, std::string) override {}

  // Waits up to `limit` for the hello; whether it came.
  bool wait_for_hello(std::chrono::seconds limit) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, limit, [&] { return greeted_; });
  }
  // Waits up to `limit` for `count` chat messages; returns what arrived.
  std::vector<std::string> wait_for(std::size_t count, std::chrono::seconds limit) {
    std::unique_lock lock(mutex_);
    changed_.wait_for(lock, limit, [&] { return texts_.size() >= count; });
    return texts_;
  }

 private:
  member_identity who_;
  std::vector<frame_ptr> queued_;  // the room's strand only
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<std::string> texts_;
  bool greeted_ = false;
};

chat_options unlimited_chat(int messages) {
  chat_options chat;
  chat.flood.burst = messages;
  chat.flood.window = std::chrono::milliseconds(60000);
  chat.flood.penalty = std::chrono::milliseconds(60000);
  return chat;
}

// Each sender's messages ("s:i") in its own order.
void check_per_sender_order(const std::vector<std::string>& seen, int senders) {
  std::vector<int> next(senders, 0);
  for (const auto& t : seen) {
    const int s = std::stoi(t.substr(0, t.find(':')));
    CHECK(t == std::to_string(s) + ":" + std::to_string(next[s]++));
  }
}

}  // namespace

TEST_CASE("room: members on other threads, the room on a multi-threaded io_context, everyone sees one order",
          "[live_room][threads]") {
  constexpr int senders = 3;
  constexpr int per_sender = 40;
  boost::asio::io_context ioc;
  auto bus = make_local_bus();
  channel_registry channels;
  channels.add(std::make_shared<chat_channel>(unlimited_chat(senders * per_sender), bus.get(), std::nullopt, nullptr));
  channels.add(std::make_shared<presence_channel>());
  auto work = boost::asio::make_work_guard(ioc);
  std::vector<std::thread> loop;
  for (int i = 0; i < 2; ++i) loop.emplace_back([&] { ioc.run(); });

  auto r = std::make_shared<room>(ioc, 1, room_options{}, *bus, nullptr, channels);
  r->start();
  auto watcher = std::make_shared<locked_member>(testing::registrant(100));
  r->join(watcher, std::nullopt, std::nullopt);
  const auto* route = channels.client_route("chat.send");
  REQUIRE(route);

  std::vector<std::shared_ptr<locked_member>> members(senders);
  std::vector<std::thread> clients;
  for (int s = 0; s < senders; ++s) {
    members[s] = std::make_shared<locked_member>(testing::registrant(s + 1));
    clients.emplace_back([&, s] {
      r->join(members[s], std::nullopt, std::nullopt);
      for (int i = 0; i < per_sender; ++i)
        r->client_message(members[s], *route, json::object{{"type", "chat.send"}, {"text", std::to_string(s) + ":" + std::to_string(i)}});
    });
  }
  for (auto& c : clients) c.join();

  const auto seen = watcher->wait_for(senders * per_sender, std::chrono::seconds(20));
  CHECK(seen.size() == senders * per_sender);
  // Each sender's messages in its own order, and every member got the watcher's order: a member
  // that joined after the first messages sees a suffix of it.
  check_per_sender_order(seen, senders);
  for (auto& m : members) {
    const auto got = m->wait_for(1, std::chrono::seconds(5));
    REQUIRE(got.size() <= seen.size());
    CHECK(std::equal(got.begin(), got.end(), seen.end() - static_cast<std::ptrdiff_t>(got.size())));
  }

  for (auto& m : members) r->leave(m);
  r->stop();
  work.reset();
  for (auto& t : loop) t.join();
}

TEST_CASE("room: two nodes over a real redis-server, rooms on a multi-threaded io_context, members on other threads: one order",
          "[live_room][threads][redis]") {
  constexpr int senders = 4;
  constexpr int per_sender = 30;
  cohort::bus::testing::redis_server redis;
  boost::asio::io_context ioc;
  auto work = boost::asio::make_work_guard(ioc);
  std::vector<std::thread> loop;
  for (int i = 0; i < 2; ++i) loop.emplace_back([&] { ioc.run(); });

  // A node: its bus, channels and room, as an edge has them (no store).
  struct node {
    std::unique_ptr<room_bus> bus;
    channel_registry channels;
    std::shared_ptr<room> r;
    std::shared_ptr<locked_member> watcher;
  };
  std::vector<node> nodes(2);
  for (auto& n : nodes) {
    n.bus = make_redis_bus(ioc, cohort::bus::redis_endpoint{"127.0.0.1", redis.port(), 0, {}});
    n.channels.add(std::make_shared<chat_channel>(unlimited_chat(senders * per_sender), n.bus.get(), std::nullopt, nullptr));
    n.channels.add(std::make_shared<presence_channel>());
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!(nodes[0].bus->available() && nodes[1].bus->available()) && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  REQUIRE(nodes[0].bus->available());
  REQUIRE(nodes[1].bus->available());
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    auto& n = nodes[i];
    n.r = std::make_shared<room>(ioc, 1, room_options{}, *n.bus, nullptr, n.channels);
    n.r->start();
    n.watcher = std::make_shared<locked_member>(testing::registrant(static_cast<std::int64_t>(100 + i)));
    n.r->join(n.watcher, std::nullopt, std::nullopt);
    REQUIRE(n.watcher->wait_for_hello(std::chrono::seconds(10)));
  }

  // Senders alternate between the nodes, each on its own thread.
  std::vector<std::shared_ptr<locked_member>> members(senders);
  std::vector<std::thread> clients;
  for (int s = 0; s < senders; ++s) {
    members[s] = std::make_shared<locked_member>(testing::registrant(s + 1));
    clients.emplace_back([&, s] {
      auto& n = nodes[static_cast<std::size_t>(s) % nodes.size()];
      const auto* route = n.channels.client_route("chat.send");
      n.r->join(members[s], std::nullopt, std::nullopt);
      for (int i = 0; i < per_sender; ++i)
        n.r->client_message(members[s], *route, json::object{{"type", "chat.send"}, {"text", std::to_string(s) + ":" + std::to_string(i)}});
    });
  }
  for (auto& c : clients) c.join();

  // Redis gives the order: both nodes' watchers see the same one, every message once.
  const auto seen = nodes[0].watcher->wait_for(senders * per_sender, std::chrono::seconds(20));
  CHECK(seen.size() == senders * per_sender);
  check_per_sender_order(seen, senders);
  CHECK(nodes[1].watcher->wait_for(senders * per_sender, std::chrono::seconds(20)) == seen);

  for (auto& n : nodes) n.r->stop();
  for (auto& n : nodes) n.bus->stop();
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // the buses' disconnects run on the loop
  work.reset();
  ioc.stop();
  for (auto& t : loop) t.join();
}

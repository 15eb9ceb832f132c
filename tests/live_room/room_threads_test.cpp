#include "live_room/room.hpp"

#include "live_room/channels/chat/chat_channel.hpp"
#include "live_room/channels/presence/presence_channel.hpp"
#include "room_fixture.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include <condition_variable>
#include <mutex>
#include <thread>

// The room as the server runs it: its io_context on several threads and joins, messages and
// leaves arriving from others. The ThreadSanitizer build (tests/tsan/run.sh) runs this to check
// that the strand and the bus are all the synchronization the room needs.

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
    }
    queued_.clear();
    changed_.notify_all();
  }
  void send_batch(const std::vector<frame_ptr>& frames) override {
    for (const auto& f : frames) deliver(f);
    flush();
  }
  void disconnect(std::uint16_t, std::string) override {}

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
};

}  // namespace

TEST_CASE("room: members on other threads, the room on a multi-threaded io_context, everyone sees one order",
          "[live_room][threads]") {
  constexpr int senders = 3;
  constexpr int per_sender = 40;
  boost::asio::io_context ioc;
  auto bus = make_local_bus();
  channel_registry channels;
  chat_options chat;
  chat.flood.burst = senders * per_sender;
  chat.flood.window = std::chrono::milliseconds(60000);
  chat.flood.penalty = std::chrono::milliseconds(60000);
  channels.add(std::make_shared<chat_channel>(chat, bus.get(), std::nullopt, nullptr));
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
  std::vector<int> next(senders, 0);
  for (const auto& t : seen) {
    const int s = std::stoi(t.substr(0, t.find(':')));
    CHECK(t == std::to_string(s) + ":" + std::to_string(next[s]++));
  }
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

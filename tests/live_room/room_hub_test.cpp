#include "live_room/room_hub.hpp"

#include "live_room/channels/presence/presence_channel.hpp"

#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>

#include <chrono>

namespace {

using namespace cohort::live_room;

struct hub_fixture {
  boost::asio::io_context ioc;
  std::unique_ptr<room_bus> bus = make_local_bus();
  channel_registry channels;
  std::unique_ptr<room_hub> hub;

  explicit hub_fixture(std::chrono::seconds idle) {
    channels.add(std::make_shared<presence_channel>());
    hub_context ctx;
    ctx.ioc = &ioc;
    ctx.bus = bus.get();
    ctx.edge = true;  // no database
    ctx.channels = &channels;
    ctx.room_idle = idle;
    hub = std::make_unique<room_hub>(std::move(ctx));
    hub->start();
  }
  ~hub_fixture() {
    hub->stop();
    ioc.restart();
    ioc.run_for(std::chrono::milliseconds(50));
  }
  // Runs the loop until `done` or the deadline; no assertion on how long it took.
  template <class Done>
  void run_until(Done done, std::chrono::seconds deadline = std::chrono::seconds(20)) {
    const auto end = std::chrono::steady_clock::now() + deadline;
    while (!done() && std::chrono::steady_clock::now() < end) {
      ioc.restart();
      ioc.run_for(std::chrono::milliseconds(100));
    }
  }
};

}  // namespace

TEST_CASE("room_hub: a room without members for chat.room_idle_seconds leaves memory", "[live_room][hub]") {
  hub_fixture f(std::chrono::seconds(1));
  f.hub->registration_cancelled(5, 1, "nonce");  // makes webinar 5's room, which no one joins
  CHECK(f.hub->rooms_in_memory() == 1);
  f.run_until([&] { return f.hub->rooms_in_memory() == 0; });
  CHECK(f.hub->rooms_in_memory() == 0);
  // A later use makes it again.
  f.hub->registration_cancelled(5, 2, "nonce2");
  CHECK(f.hub->rooms_in_memory() == 1);
}

TEST_CASE("room_hub: with room_idle 0 rooms stay; a deleted series' room goes at once", "[live_room][hub]") {
  hub_fixture f(std::chrono::seconds(0));
  f.hub->registration_cancelled(5, 1, "nonce");
  f.hub->registration_cancelled(6, 1, "nonce");
  f.ioc.run_for(std::chrono::milliseconds(100));
  CHECK(f.hub->rooms_in_memory() == 2);
  f.hub->webinar_deleted(5);
  CHECK(f.hub->rooms_in_memory() == 1);
}

// A live room in-process: the local bus, the channels a test registers, and fake members that
// keep what the room sent them. The io_context runs on the test's thread (run_for), so a test
// reads what members got without locks.
#pragma once

#include "live_room/channel_registry.hpp"
#include "live_room/room.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace cohort::live_room::testing {

class fake_member : public room_member {
 public:
  explicit fake_member(member_identity who) : who_(std::move(who)) {}
  const member_identity& who() const override { return who_; }
  void deliver(frame_ptr frame) override { queued_.push_back(std::move(frame)); }
  void flush() override {
    for (auto& f : queued_) received.push_back(*f);
    queued_.clear();
    ++writes;
  }
  void send_batch(const std::vector<frame_ptr>& frames) override {
    for (const auto& f : frames) deliver(f);
    flush();
  }
  void disconnect(std::uint16_t code, std::string) override { closed_with = code; }

  // What arrived, parsed; of one type.
  std::vector<boost::json::object> of_type(std::string_view type) const {
    std::vector<boost::json::object> out;
    for (const auto& r : received) {
      auto v = boost::json::parse(r).as_object();
      if (v.at("type").as_string() == type) out.push_back(std::move(v));
    }
    return out;
  }
  std::vector<std::string> types() const {
    std::vector<std::string> out;
    for (const auto& r : received) out.emplace_back(boost::json::parse(r).at("type").as_string());
    return out;
  }

  std::vector<std::string> received;
  int writes = 0;  // flushes: one per strand turn that sent this member something
  std::uint16_t closed_with = 0;

 private:
  member_identity who_;
  std::vector<frame_ptr> queued_;
};

inline member_identity registrant(std::int64_t id) { return member_identity{id, "Person " + std::to_string(id), "registrant", {}}; }
inline member_identity organizer() { return member_identity{0, "Host", "organizer", {}}; }

struct room_fixture {
  boost::asio::io_context ioc;
  std::unique_ptr<room_bus> bus = make_local_bus();
  channel_registry channels;
  std::shared_ptr<room> r;
  std::vector<std::shared_ptr<room>> opened;

  ~room_fixture() {
    // Stopped, their timers cancelled: nothing holds a room once the loop ran.
    for (auto& o : opened) o->stop();
    run();
  }

  // After the test added its channels.
  void open(room_options options = {}, std::int64_t webinar = 1) {
    r = std::make_shared<room>(ioc, webinar, options, *bus, nullptr, channels);
    opened.push_back(r);
    r->start();
    run();
  }
  void run(std::chrono::milliseconds d = std::chrono::milliseconds(50)) {
    ioc.restart();
    ioc.run_for(d);
  }
  std::shared_ptr<fake_member> join(member_identity who, std::optional<std::int64_t> since = {}, std::optional<std::string> epoch = {}) {
    auto m = std::make_shared<fake_member>(std::move(who));
    r->join(m, since, std::move(epoch));
    run();
    return m;
  }
  void send(const std::shared_ptr<fake_member>& from, boost::json::object msg) {
    const auto* route = channels.client_route(msg.at("type").as_string());
    REQUIRE(route);
    r->client_message(from, *route, std::move(msg));
    run();
  }
};

}  // namespace cohort::live_room::testing

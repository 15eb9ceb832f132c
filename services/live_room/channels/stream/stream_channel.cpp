#include "live_room/channels/stream/stream_channel.hpp"

#include "common/rfc3339.hpp"

#include <boost/json.hpp>

namespace cohort::live_room {
namespace json = boost::json;

std::string stream_frame(bool live, std::int64_t at_ms, std::int64_t started_at, std::optional<int> session) {
  json::object status{{"live", live}, {"started_at", common::format_rfc3339(started_at)}, {"session", nullptr}};
  if (session) status["session"] = *session;
  return json::serialize(json::object{{"type", "x.stream"}, {"at", at_ms}, {"status", std::move(status)}});
}

class stream_channel::part : public channel_room {
 public:
  explicit part(room_context& room) : room_(room) {}

  void on_state(const json::object& frame, bool live) override {
    const auto at = frame.at("at").to_number<std::int64_t>();
    if (at <= at_ms_) return;
    const auto& status = frame.at("status").as_object();
    json::object event{{"type", "stream.status"}};
    for (const auto& [k, v] : status) event[k] = v;
    at_ms_ = at;
    live_ = status.at("live").as_bool();
    event_ = std::make_shared<const std::string>(json::serialize(event));
    if (live) room_.broadcast(event_);
  }

  void after_hello(const member_ptr& m) override {
    if (live_) room_.send_to(m, event_);
  }

 private:
  room_context& room_;
  std::int64_t at_ms_ = 0;
  bool live_ = false;
  frame_ptr event_;  // the current status, serialized once
};

std::unique_ptr<channel_room> stream_channel::open(room_context& room) { return std::make_unique<part>(room); }

}  // namespace cohort::live_room

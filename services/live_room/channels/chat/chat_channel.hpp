// The chat channel: chat.send from members, sequenced into chat.message by the bus (the order
// and catch-up history are the room's); deletions (chat.deleted), mutes (x.mute state) and bans
// (x.ban: close the person's sockets). On the primary it writes the transcript of every node,
// holding each live message back until its row is committed (an echo survives a crash), and
// serves the organizer's moderation routes and the transcript export.
#pragma once

#include "live_room/channel.hpp"
#include "live_room/channels/chat/rate_limiter.hpp"
#include "registration/api_support.hpp"
#include "store/reader_pool.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace cohort::live_room {

struct chat_options {
  rate_limiter::limits flood;
};

// What the primary's chat has; an edge's chat has none of it (no routes, no transcript).
class chat_channel : public channel {
 public:
  chat_channel(chat_options options, room_bus* bus, std::optional<store_access> store, metrics::registry* metrics);

  std::string_view name() const override { return "chat"; }
  channel_types types() const override;
  std::string state_field(const boost::json::object& frame) const override;
  std::vector<std::string> stored_state(std::int64_t webinar_id) const override;
  std::unique_ptr<channel_room> open(room_context& room) override;
  void add_routes(http::router& r) override;

 private:
  class part;
  void delete_message(http::request& req, http::responder& respond);
  void mute(http::request& req, http::responder& respond);
  void ban(http::request& req, http::responder& respond);
  void export_csv(http::request& req, http::responder& respond);
  // The registration id in the body, checked to belong to this webinar.
  std::int64_t registration_in_body(http::request& req);

  chat_options options_;
  room_bus* bus_;
  std::optional<store_access> store_;
  metrics::registry* metrics_;
};

// {"type":"x.mute","registration_id":R,"until":UNIX}
std::string mute_frame(std::int64_t registration_id, std::int64_t until);

// Checks chat text: valid UTF-8, 1..500 characters after trimming, no control characters.
// Returns the trimmed text, or nullopt with `why` set.
std::optional<std::string> valid_chat_text(std::string_view raw, std::string& why);

}  // namespace cohort::live_room

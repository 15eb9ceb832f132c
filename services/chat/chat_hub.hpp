// The live chat of one node: decides WebSocket upgrades on /ws (token, Origin, ban), keeps one
// chat_room per webinar, and serves the organizer's moderation routes and transcript export.
#pragma once

#include "chat/chat_room.hpp"
#include "gateway/router.hpp"
#include "gateway/ws_types.hpp"
#include "registration/api_support.hpp"
#include "store/reader_pool.hpp"

#include <boost/asio/io_context.hpp>

#include <mutex>
#include <unordered_map>
#include <vector>

namespace cohort::chat {

struct hub_context {
  boost::asio::io_context* ioc = nullptr;
  chat_bus* bus = nullptr;
  registration::write_path writes;
  store::reader_pool* readers = nullptr;
  http::authenticator authenticate;       // bearer -> identity (throws api_error 401)
  std::vector<std::string> allowed_origins;  // exact origins, e.g. "http://127.0.0.1:8080"
  metrics::registry* metrics = nullptr;
  room_options rooms;
};

class chat_hub {
 public:
  explicit chat_hub(hub_context ctx) : ctx_(std::move(ctx)) {}

  // For GET /ws with upgrade headers; see proto/ for the protocol.
  http::upgrade_result upgrade(http::request& req);
  void add_routes(http::router& r);

 private:
  std::shared_ptr<chat_room> room(std::int64_t webinar_id);
  bool origin_allowed(const std::string& origin) const;
  void delete_message(http::request& req, http::responder& respond);
  void mute(http::request& req, http::responder& respond);
  void ban(http::request& req, http::responder& respond);
  void export_csv(http::request& req, http::responder& respond);
  // The registration id in the body, checked to belong to this webinar.
  std::int64_t registration_in_body(http::request& req);

  hub_context ctx_;
  std::mutex rooms_mutex_;
  std::unordered_map<std::int64_t, std::shared_ptr<chat_room>> rooms_;
};

}  // namespace cohort::chat

#include "live_room/room_client.hpp"

#include <boost/json.hpp>

namespace cohort::live_room {
namespace json = boost::json;

void room_client::on_open(std::shared_ptr<http::ws_peer> peer) {
  peer_ = std::move(peer);
  room_->join(shared_from_this(), since_, epoch_);
}

void room_client::on_close() { room_->leave(shared_from_this()); }

void room_client::reply_error(const char* code, const std::string& message) {
  peer_->send(std::make_shared<const std::string>(
      json::serialize(json::object{{"type", "error"}, {"code", code}, {"message", message}})));
}

// Parsed here, on the connection's strand; the channel gets the object on the room's.
void room_client::on_text(std::string_view text) {
  boost::system::error_code ec;
  auto value = json::parse(text, ec);
  if (ec || !value.is_object()) return reply_error("bad_message", "send a JSON object with a \"type\"");
  auto& msg = value.get_object();
  const auto* type = msg.if_contains("type");
  const auto* route = type && type->is_string() ? channels_.client_route(type->get_string()) : nullptr;
  if (!route) return reply_error("bad_message", "unknown message type (expected " + channels_.client_types_text() + ")");
  room_->client_message(shared_from_this(), *route, std::move(msg));
}

}  // namespace cohort::live_room

#include "chat/chat_client.hpp"

#include "common/text.hpp"
#include "registration/validation.hpp"

#include <boost/json.hpp>

namespace cohort::chat {
namespace json = boost::json;

std::optional<std::string> valid_chat_text(std::string_view raw, std::string& why) {
  auto text = common::trim(raw);
  if (text.empty()) {
    why = "the message is empty";
    return std::nullopt;
  }
  if (!common::valid_utf8(text)) {
    why = "the message is not valid UTF-8";
    return std::nullopt;
  }
  if (common::has_control_chars(text)) {
    why = "the message must not contain control characters or line breaks";
    return std::nullopt;
  }
  if (common::utf8_length(text) > 500) {
    why = "the message is longer than 500 characters";
    return std::nullopt;
  }
  return text;
}

void chat_client::on_open(std::shared_ptr<http::ws_peer> peer) {
  peer_ = std::move(peer);
  room_->join(shared_from_this(), since_, epoch_);
}

void chat_client::on_close() { room_->leave(shared_from_this()); }

void chat_client::reply_error(const char* code, const std::string& message) {
  peer_->send(std::make_shared<const std::string>(
      json::serialize(json::object{{"type", "error"}, {"code", code}, {"message", message}})));
}

void chat_client::on_text(std::string_view text) {
  boost::system::error_code ec;
  auto value = json::parse(text, ec);
  if (ec || !value.is_object()) return reply_error("bad_message", "send a JSON object with a \"type\"");
  const auto& msg = value.get_object();
  const auto* type = msg.if_contains("type");
  if (!type || !type->is_string() || type->get_string() != "chat.send")
    return reply_error("bad_message", "unknown message type (expected chat.send)");
  const auto* body = msg.if_contains("text");
  if (!body || !body->is_string()) return reply_error("invalid", "text must be a string");
  std::string client_id;
  if (const auto* cid = msg.if_contains("client_id"); cid && !cid->is_null()) {
    if (!cid->is_string() || cid->get_string().size() > 64 || cid->get_string().empty())
      return reply_error("invalid", "client_id must be a string of 1 to 64 characters");
    client_id = std::string(cid->get_string());
  }
  std::string why;
  auto checked = valid_chat_text(body->get_string(), why);
  if (!checked) return reply_error("invalid", why);
  room_->post_message(shared_from_this(), std::move(*checked), std::move(client_id));
}

}  // namespace cohort::chat

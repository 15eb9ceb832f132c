#include "live_room/channel_registry.hpp"

#include <boost/json/parse.hpp>

#include <stdexcept>

namespace cohort::live_room {

void channel_registry::add(std::shared_ptr<channel> c) {
  const auto index = channels_.size();
  const auto t = c->types();
  auto claim = [&](route_map& m, const std::vector<std::string>& types, kind k) {
    for (const auto& type : types)
      if (!m.emplace(type, route{index, k}).second)
        throw std::logic_error("live room: two channels claim the type " + type + " (" + std::string(c->name()) + ")");
  };
  claim(client_, t.client, kind::client);
  for (const auto& type : t.client) client_types_text_ += (client_types_text_.empty() ? "" : ", ") + type;
  claim(events_, t.sequenced, kind::sequenced);
  claim(events_, t.control, kind::control);
  claim(events_, t.state, kind::state);
  channels_.push_back(std::move(c));
}

std::string channel_registry::state_field(const boost::json::object& frame) const {
  const auto* type = frame.if_contains("type");
  const auto* r = type && type->is_string() ? event_route(type->get_string()) : nullptr;
  if (!r || r->what != kind::state) throw std::invalid_argument("not a state frame");
  return channels_[r->channel]->state_field(frame);
}

std::vector<std::string> channel_registry::stored_state(std::int64_t webinar_id) const {
  std::vector<std::string> out;
  for (const auto& c : channels_)
    for (auto& f : c->stored_state(webinar_id)) out.push_back(std::move(f));
  return out;
}

void channel_registry::republish(room_bus& bus, const std::vector<std::int64_t>& webinar_ids) const {
  for (const auto webinar : webinar_ids)
    for (const auto& c : channels_)
      for (auto& f : c->stored_state(webinar)) {
        auto field = c->state_field(boost::json::parse(f).as_object());  // before f is moved from
        bus.publish_state(webinar, std::move(field), std::move(f));
      }
}

void channel_registry::add_routes(http::router& r) const {
  for (const auto& c : channels_) c->add_routes(r);
}

}  // namespace cohort::live_room

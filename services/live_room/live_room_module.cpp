#include "live_room/live_room_module.hpp"

#include "live_room/channels/chat/chat_channel.hpp"
#include "live_room/revocations.hpp"

namespace cohort::live_room {
namespace {

room_options room_options_from(const chat_config& c, bool primary) {
  room_options o;
  o.history.max_messages = static_cast<std::size_t>(c.history_messages);
  o.history.max_age_seconds = std::int64_t{c.history_hours} * 3600;
  o.load_stored_state = primary;
  return o;
}

}  // namespace

std::shared_ptr<chat_channel> make_chat_channel(const node::node_services& node) {
  chat_options o;
  o.flood.burst = node.cfg.chat.flood_messages;
  o.flood.window = std::chrono::milliseconds(node.cfg.chat.flood_window_ms);
  o.flood.penalty = std::chrono::seconds(node.cfg.chat.flood_block_seconds);
  return std::make_shared<chat_channel>(o, &node.bus, store_of(node), &node.metrics);
}

live_room_module::live_room_module(const node::node_services& node) : node_(node) {
  const bool primary = node.writer != nullptr;
  hub_ = std::make_unique<room_hub>(hub_context{&node.ioc, &node.bus, node.readers, !primary, node.authenticate, node.allowed_origins,
                                                &node.metrics, room_options_from(node.cfg.chat, primary), &channels_,
                                                static_cast<std::size_t>(node.cfg.chat.sockets_per_token),
                                                std::chrono::seconds(node.cfg.chat.room_idle_seconds)});
  if (auto* events = node.registrations) {
    auto* hub = hub_.get();
    events->on<registration::cancelled>([hub](const registration::cancelled& e) {
      hub->registration_cancelled(e.webinar_id, e.registration_id, e.token_nonce_hash);
    });
    events->on<registration::waitlisted>([hub](const registration::waitlisted& e) { hub->registration_waitlisted(e.token_nonce_hash); });
    events->on<registration::seated>([hub](const registration::seated& e) { hub->registrations_seated(e.token_nonce_hashes); });
    events->on<registration::series_deleted>([hub](const registration::series_deleted& e) { hub->webinar_deleted(e.webinar_id); });
  }
}

void live_room_module::add_routes(http::router& r) { hub_->add_routes(r); }

void live_room_module::start() {
  watch_cluster();
  hub_->start();
}

bool live_room_module::ready() const { return node_.bus.available() && hub_->revocations_confirmed(); }

// One watcher per node. An edge trusts the revocation list the bus loads; the primary hosts
// every room in use anywhere (it writes what they do) and puts back what Redis must hold.
void live_room_module::watch_cluster() {
  auto* hub = hub_.get();
  if (!node_.writer) {
    node_.bus.watch_node({[hub](std::vector<std::string> entries, bool complete) { hub->revoked(std::move(entries), complete); }, {}, {},
                          [hub] { hub->revocations_unconfirmed(); }});
    return;
  }
  node_.bus.watch_node({{}, [hub](std::int64_t webinar) { hub->host(webinar); }, [this] { republish(); }, {}});
}

// After the bus (re)connected: Redis may have come back empty, so the primary puts back what
// edges rely on — the revocation list (then its generation marker, which edges wait for before
// they admit anyone) and every webinar's room state. Repeats are harmless.
void live_room_module::republish() {
  std::vector<std::int64_t> webinars;
  {
    auto db = node_.readers->acquire();
    for (auto& entry : revocation_entries(*db)) node_.bus.revoke(std::move(entry));
    node_.bus.revocations_published();
    auto st = db->prepare("SELECT id FROM webinars");
    while (st.step()) webinars.push_back(st.int64(0));
  }
  channels_.republish(node_.bus, webinars);
  for (auto& also : republish_also_) also(node_.bus);
}

}  // namespace cohort::live_room

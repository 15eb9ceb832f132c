// What the live room does with a member's WebSocket bytes: gateway/ws_frame's frame_parser (as
// websocket_session feeds it), then live_room/room_client (JSON, dispatch by "type") and the room
// with the node's real channel set (chat, drops, stream, presence, attendance, qa, polls; an
// edge's: no database) on an io_context and the local bus, like tests/live_room's fixtures.
// Input: lines, each one text message from a member: plain from registrant 7, "@..." from the
// organizer, "%..." from registrant 8. Each is sent as masked client frames, some fragmented
// with a ping between the fragments, fed to the parser in chunks. An input that starts with
// "RAW\n" is instead the raw byte stream of registrant 7's socket. At most 64 messages; the
// parser's limit is the server's (16 KiB a message). The room holds one open poll (id 1) and two
// questions ("00000000000000a7" by 7, "...a8" by 8), as state the primary published, so votes
// and moderation reach them. After each message the loop runs
// until idle (no timer waits). Invariants:
// - nothing throws out of the parser, the client or a channel (the run loop has no catch: an
//   exception there would end the process);
// - every frame a member gets is a JSON object with a string "type", valid UTF-8; each member
//   gets exactly one hello;
// - the room's membership stays consistent: not idle while a member is connected, idle once
//   every connection closed, whatever the members sent;
// - memory stays bounded: a member joining last gets at most hello_messages messages in its
//   hello however many were sent, and a member gets a bounded number of frames per message.
// fuzz-libs: cohort_live_room
#include "gateway/ws_frame.hpp"
#include "live_room/channel_registry.hpp"
#include "live_room/channels/attendance/attendance_channel.hpp"
#include "live_room/channels/chat/chat_channel.hpp"
#include "live_room/channels/drops/drops_channel.hpp"
#include "live_room/channels/polls/polls_channel.hpp"
#include "live_room/channels/polls/polls_store.hpp"
#include "live_room/channels/presence/presence_channel.hpp"
#include "live_room/channels/qa/qa_channel.hpp"
#include "live_room/channels/stream/stream_channel.hpp"
#include "live_room/room.hpp"
#include "live_room/room_client.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace {

namespace json = boost::json;
namespace ws = cohort::http::ws;
using namespace cohort::live_room;

constexpr std::size_t max_messages = 64;
constexpr std::size_t message_max_bytes = 16 * 1024;  // websocket_session's default
constexpr std::size_t hello_messages = 10;

void check(bool ok) {
  if (!ok) std::abort();
}

// What the room sends a member, as websocket_session would write it.
class fake_peer : public cohort::http::ws_peer {
 public:
  void send(std::shared_ptr<const std::string> text) override {
    queue(std::move(text));
    flush();
  }
  void queue(std::shared_ptr<const std::string> text) override {
    if (closed) return;  // a closed session writes nothing more
    json::error_code ec;
    const auto v = json::parse(*text, ec);  // also refuses invalid UTF-8
    check(!ec && v.is_object());
    const auto* type = v.as_object().if_contains("type");
    check(type && type->is_string() && !type->get_string().empty());
    ++frames;
    if (type->get_string() == "hello") {
      ++hellos;
      last_hello = v.as_object();
    }
  }
  void flush() override {}
  void send_batch(const std::vector<std::shared_ptr<const std::string>>& texts) override {
    for (const auto& t : texts) queue(t);
    flush();
  }
  void close(std::uint16_t, std::string) override { closed = true; }

  std::size_t frames = 0;
  int hellos = 0;
  json::object last_hello;
  bool closed = false;
};

// One member's connection: the parser websocket_session owns, handing messages to room_client.
struct connection : ws::frame_sink {
  connection(member_identity who, const std::shared_ptr<room>& r, const channel_registry& channels)
      : client(std::make_shared<room_client>(std::move(who), r, channels, std::nullopt, std::nullopt)) {
    client->on_open(peer);
  }
  void on_text(std::string_view message) override { client->on_text(message); }
  void on_ping(std::string_view) override {}
  void on_pong() override {}
  void on_close(std::uint16_t, std::string_view) override {}

  // Feeds bytes in pieces of `chunk`; true while the connection stays open.
  bool feed(std::string bytes, std::size_t chunk) {
    for (std::size_t pos = 0; pos < bytes.size() && open(); pos += chunk) {
      const auto n = std::min(chunk, bytes.size() - pos);
      if (parser.feed(bytes.data() + pos, n, *this) != 0) break;
    }
    return open();
  }
  bool open() const { return !ended && !parser.done() && !peer->closed; }
  // What websocket_session does once the socket is done: on_close, once.
  void end() {
    if (ended) return;
    ended = true;
    client->on_close();
  }

  std::shared_ptr<fake_peer> peer = std::make_shared<fake_peer>();
  std::shared_ptr<room_client> client;
  ws::frame_parser parser{message_max_bytes};
  bool ended = false;
};

// A masked client frame.
std::string client_frame(ws::opcode op, bool fin, std::string_view payload) {
  static constexpr std::uint8_t mask[4] = {0x37, 0xfa, 0x21, 0x3d};
  std::string out;
  out += static_cast<char>((fin ? 0x80 : 0) | static_cast<std::uint8_t>(op));
  if (payload.size() < 126) {
    out += static_cast<char>(0x80 | payload.size());
  } else if (payload.size() <= 0xFFFF) {
    out += static_cast<char>(0x80 | 126);
    out += static_cast<char>(payload.size() >> 8);
    out += static_cast<char>(payload.size() & 0xFF);
  } else {
    out += static_cast<char>(0x80 | 127);
    for (int shift = 56; shift >= 0; shift -= 8) out += static_cast<char>((static_cast<std::uint64_t>(payload.size()) >> shift) & 0xFF);
  }
  out.append(reinterpret_cast<const char*>(mask), 4);
  for (std::size_t i = 0; i < payload.size(); ++i) out += static_cast<char>(payload[i] ^ mask[i % 4]);
  return out;
}

// One message as a browser might frame it: whole, or in two fragments with a ping between.
std::string message_frames(std::string_view text) {
  if (text.size() < 2 || text.size() % 3 != 0) return client_frame(ws::opcode::text, true, text);
  const auto half = text.size() / 2;
  return client_frame(ws::opcode::text, false, text.substr(0, half)) + client_frame(ws::opcode::ping, true, "p") +
         client_frame(ws::opcode::continuation, true, text.substr(half));
}

// Runs every ready handler until none is left (timers in the future stay pending).
void drain(boost::asio::io_context& ioc) {
  for (int turns = 0;; ++turns) {
    check(turns < 10000);  // a handler that keeps re-posting itself would spin the strand forever
    ioc.restart();
    if (ioc.poll() == 0) return;
  }
}

std::string open_poll_frame() {
  poll_row p;
  p.id = 1;
  p.webinar_id = 1;
  p.input = poll_input{0, "Which topic next?", "multiple", {"Security", "Scaling", "Testing"}};
  p.state = "open";
  p.rev = 2;
  p.created_at = 1768471200;
  p.opened_ms = 1768471200000;
  return poll_frame(p);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);

  // Destroyed in reverse: the room and its handlers before the channels and the bus.
  channel_registry channels;
  auto bus = make_local_bus(20);
  channels.add(std::make_shared<chat_channel>(chat_options{}, bus.get(), std::nullopt, nullptr));
  channels.add(std::make_shared<drops_channel>());
  channels.add(std::make_shared<stream_channel>());
  channels.add(std::make_shared<presence_channel>());
  channels.add(std::make_shared<attendance_channel>());
  channels.add(std::make_shared<qa_channel>(qa_options{}, bus.get(), std::nullopt));
  channels.add(std::make_shared<polls_channel>(polls_options{}, bus.get(), std::nullopt));
  boost::asio::io_context ioc;
  room_options options;
  options.history.max_messages = 20;
  options.hello_messages = hello_messages;
  auto r = std::make_shared<room>(ioc, 1, options, *bus, nullptr, channels);
  r->start();
  // What the primary would have published: an open poll, and a question from each registrant
  // (question ids are random, so a message can only name these).
  for (const std::string& frame :
       {open_poll_frame(),
        std::string(R"({"type":"x.qa.question","id":"00000000000000a7","asker":7,"name":"Ada Lovelace","anonymous":false,)"
                    R"("text":"Is the recording shared?","at":1768471200000})"),
        std::string(R"({"type":"x.qa.question","id":"00000000000000a8","asker":8,"name":"Grace Hopper","anonymous":true,)"
                    R"("text":"How is failover tested?","at":1768471201000})")})
    bus->publish_state(1, channels.state_field(json::parse(frame).as_object()), frame);
  drain(ioc);

  std::vector<std::unique_ptr<connection>> conns;
  conns.push_back(std::make_unique<connection>(member_identity{7, "Ada Lovelace", "registrant", "nonce-hash-7"}, r, channels));
  conns.push_back(std::make_unique<connection>(member_identity{0, "Host", "organizer", {}}, r, channels));
  conns.push_back(std::make_unique<connection>(member_identity{8, "Grace Hopper", "registrant", "nonce-hash-8"}, r, channels));
  drain(ioc);
  for (const auto& c : conns) check(c->peer->hellos == 1);
  check(!r->idle_since());

  std::size_t sent = 0;
  static constexpr std::size_t chunks[] = {std::size_t(-1), 1, 5, 64};
  if (input.substr(0, 4) == "RAW\n") {
    input.remove_prefix(4);
    conns[0]->feed(std::string(input), 61);
    drain(ioc);
    sent = 1;
  } else {
    while (!input.empty() && sent < max_messages) {
      const auto nl = input.find('\n');
      auto text = input.substr(0, nl);
      input.remove_prefix(nl == std::string_view::npos ? input.size() : nl + 1);
      auto* c = conns[0].get();
      if (!text.empty() && text.front() == '@') c = conns[1].get(), text.remove_prefix(1);
      else if (!text.empty() && text.front() == '%') c = conns[2].get(), text.remove_prefix(1);
      if (!c->open()) continue;
      c->feed(message_frames(text), chunks[sent % 4]);
      ++sent;
      drain(ioc);
      if (!c->open()) {
        c->end();
        drain(ioc);
      }
    }
  }
  // Membership: someone is still here unless every connection closed.
  bool anyone = false;
  for (const auto& c : conns) {
    if (!c->open()) c->end();
    anyone = anyone || !c->ended;
  }
  drain(ioc);
  check(anyone == !r->idle_since().has_value());
  for (const auto& c : conns) {
    check(c->peer->hellos == 1);
    check(c->peer->frames <= 16 * (sent + 4));
  }

  // A late member's hello: capped, whatever was sent.
  conns.push_back(std::make_unique<connection>(member_identity{9, "Late Comer", "registrant", "nonce-hash-9"}, r, channels));
  drain(ioc);
  check(conns.back()->peer->hellos == 1);
  const auto& hello = conns.back()->peer->last_hello;
  check(hello.at("messages").as_array().size() <= hello_messages);

  for (const auto& c : conns) c->end();
  drain(ioc);
  check(r->idle_since().has_value());
  r->stop();
  drain(ioc);
  return 0;
}

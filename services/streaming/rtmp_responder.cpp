#include "streaming/rtmp_responder.hpp"

#include <algorithm>
#include <bit>
#include <utility>

namespace cohort::streaming {

namespace {

using namespace rtmp_message;

constexpr std::size_t handshake_packet = 1536;
constexpr std::uint32_t chunk_size = 128;

// Chunk stream 2 carries protocol control, 3 the connection's command answers, 5 the
// publishing stream's status, as ffmpeg and FMS use them.
constexpr std::uint32_t control_chunks = 2;
constexpr std::uint32_t command_chunks = 3;
constexpr std::uint32_t stream_chunks = 5;

void put_be(std::string& out, std::uint64_t v, std::size_t n) {
  for (std::size_t i = n; i-- > 0;) out += static_cast<char>((v >> (8 * i)) & 0xFF);
}

// AMF0, only what the answers need.
void amf_string(std::string& out, std::string_view s) {
  s = s.substr(0, 0xFFFF);
  out += '\x02';
  put_be(out, s.size(), 2);
  out += s;
}
void amf_number(std::string& out, double d) {
  out += '\x00';
  put_be(out, std::bit_cast<std::uint64_t>(d), 8);
}
void amf_null(std::string& out) { out += '\x05'; }
void amf_object_begin(std::string& out) { out += '\x03'; }
void amf_key(std::string& out, std::string_view key) {
  put_be(out, key.size(), 2);
  out += key;
}
void amf_object_end(std::string& out) { out += std::string_view("\x00\x00\x09", 3); }

}  // namespace

rtmp_responder::rtmp_responder(std::uint64_t seed) : random_(seed * 0x9E3779B97F4A7C15ULL + 0x2545F4914F6CDD1DULL) {
  if (random_ == 0) random_ = 1;  // xorshift would stay at 0
}

std::vector<rtmp_event> rtmp_responder::feed(std::string_view bytes) {
  std::vector<rtmp_event> out;
  if (state_ == state::failed) return out;
  on_handshake_bytes(bytes);
  received_ += bytes.size();
  for (const auto& e : parser_.feed(bytes)) {
    on_event(e, out);
    if (state_ == state::failed) return out;
  }
  // After every window of bytes, if the client asked for it (the sequence number wraps at 2^32).
  if (ack_window_ != 0 && received_ - acked_ >= ack_window_) {
    acked_ = received_;
    std::string body;
    put_be(body, received_ & 0xFFFFFFFFu, 4);
    send(control_chunks, acknowledgement, 0, body);
  }
  return out;
}

// S0 S1 S2 go out once C0 and C1 are in, before the client's C2 (which it sends only after S1).
void rtmp_responder::on_handshake_bytes(std::string_view bytes) {
  constexpr std::size_t c0_c1 = 1 + handshake_packet;
  if (handshake_seen_ >= c0_c1 || bytes.empty()) return;
  const std::size_t n = std::min(bytes.size(), c0_c1 - handshake_seen_);
  for (std::size_t i = 0; i < n; ++i, ++handshake_seen_) {
    if (handshake_seen_ == 0) {
      if (bytes[i] != 3) return;  // the parser reports the wrong version; nothing is answered
    } else {
      c1_[handshake_seen_ - 1] = bytes[i];
    }
  }
  if (handshake_seen_ < c0_c1) return;
  reply_ += '\x03';
  put_be(reply_, 0, 4);  // S1: our time
  put_be(reply_, 0, 4);  // zero: no digest (FP9 clients fall back to the simple handshake)
  for (std::size_t i = 8; i < handshake_packet; i += 8) {
    // xorshift64*: only has to look random to a client that echoes it
    random_ ^= random_ >> 12;
    random_ ^= random_ << 25;
    random_ ^= random_ >> 27;
    put_be(reply_, random_ * 0x2545F4914F6CDD1DULL, 8);
  }
  reply_.append(c1_.data(), c1_.size());  // S2 echoes C1
}

void rtmp_responder::on_event(const rtmp_event& e, std::vector<rtmp_event>& out) {
  const bool before_publish = state_ == state::connecting || state_ == state::connected;
  const bool is_command = std::holds_alternative<rtmp_connect>(e) || std::holds_alternative<rtmp_stream_announce>(e) ||
                          std::holds_alternative<rtmp_create_stream>(e) || std::holds_alternative<rtmp_publish>(e);
  if (const auto* err = std::get_if<rtmp_error>(&e)) return fail(err->reason, out);
  if (is_command && before_publish && ++commands_ > max_commands)
    return fail("more than " + std::to_string(max_commands) + " commands before publish", out);
  if (is_command && !std::holds_alternative<rtmp_connect>(e) && state_ == state::connecting)
    return fail("a command before connect", out);

  if (const auto* w = std::get_if<rtmp_window_ack_size>(&e)) {
    ack_window_ = w->size;
  } else if (const auto* c = std::get_if<rtmp_connect>(&e)) {
    if (state_ != state::connecting) return fail("a second connect", out);
    state_ = state::connected;
    answer_connect(c->transaction_id);
  } else if (const auto* a = std::get_if<rtmp_stream_announce>(&e)) {
    if (before_publish) answer_result(a->transaction_id, false);
  } else if (const auto* s = std::get_if<rtmp_create_stream>(&e)) {
    if (before_publish) answer_result(s->transaction_id, true);
  } else if (std::holds_alternative<rtmp_publish>(e)) {
    if (!before_publish) return fail("a second publish on one connection", out);
    state_ = state::publish_pending;
  } else if (std::holds_alternative<rtmp_media_started>(e) && before_publish) {
    return fail("media before publish", out);
  }
  out.push_back(e);
}

void rtmp_responder::answer_connect(double transaction) {
  std::string body;
  put_be(body, window_size, 4);
  send(control_chunks, window_ack_size, 0, body);
  body += '\x02';  // dynamic
  send(control_chunks, set_peer_bandwidth, 0, body);

  std::string result;
  amf_string(result, "_result");
  amf_number(result, transaction);
  amf_object_begin(result);
  amf_key(result, "fmsVer");
  amf_string(result, "FMS/3,0,1,123");
  amf_key(result, "capabilities");
  amf_number(result, 31);
  amf_object_end(result);
  amf_object_begin(result);
  amf_key(result, "level");
  amf_string(result, "status");
  amf_key(result, "code");
  amf_string(result, "NetConnection.Connect.Success");
  amf_key(result, "description");
  amf_string(result, "Connection succeeded.");
  amf_key(result, "objectEncoding");
  amf_number(result, 0);
  amf_object_end(result);
  send(command_chunks, amf0_command, 0, result);
}

void rtmp_responder::answer_result(double transaction, bool with_stream_id) {
  std::string result;
  amf_string(result, "_result");
  amf_number(result, transaction);
  amf_null(result);
  if (with_stream_id) amf_number(result, stream_id);
  send(command_chunks, amf0_command, 0, result);
}

void rtmp_responder::accept_publish() {
  if (state_ != state::publish_pending) return;
  state_ = state::publishing;
  std::string begin;
  put_be(begin, 0, 2);  // Stream Begin
  put_be(begin, stream_id, 4);
  send(control_chunks, user_control, 0, begin);
  send_on_status("status", "NetStream.Publish.Start", "Publishing.");
}

void rtmp_responder::refuse_publish(std::string_view description) {
  if (state_ != state::publish_pending) return;
  state_ = state::failed;
  send_on_status("error", "NetStream.Publish.BadName", description);
}

void rtmp_responder::send_on_status(std::string_view level, std::string_view code, std::string_view description) {
  std::string status;
  amf_string(status, "onStatus");
  amf_number(status, 0);
  amf_null(status);
  amf_object_begin(status);
  amf_key(status, "level");
  amf_string(status, level);
  amf_key(status, "code");
  amf_string(status, code);
  amf_key(status, "description");
  amf_string(status, description);
  amf_object_end(status);
  send(stream_chunks, amf0_command, stream_id, status);
}

void rtmp_responder::send(std::uint32_t chunk_stream, std::uint8_t type, std::uint32_t message_stream,
                          std::string_view payload) {
  reply_ += static_cast<char>(chunk_stream);  // fmt 0, a one-byte basic header (ids 2-63)
  put_be(reply_, 0, 3);                       // timestamp
  put_be(reply_, payload.size(), 3);
  reply_ += static_cast<char>(type);
  for (int i = 0; i < 4; ++i) reply_ += static_cast<char>((message_stream >> (8 * i)) & 0xFF);  // little-endian
  for (std::size_t pos = 0; pos < payload.size(); pos += chunk_size) {
    if (pos > 0) reply_ += static_cast<char>(0xC0 | chunk_stream);  // fmt 3: continues the message
    reply_ += payload.substr(pos, chunk_size);
  }
}

void rtmp_responder::fail(std::string reason, std::vector<rtmp_event>& out) {
  state_ = state::failed;
  out.emplace_back(rtmp_error{std::move(reason)});
}

}  // namespace cohort::streaming

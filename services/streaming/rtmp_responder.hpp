// The server side of an RTMP connection until the client's `publish`, without sockets: Cohort
// answers the handshake and the commands itself, so no ffmpeg has to exist before a publish
// names a valid stream key. Bytes in (the client's, split anywhere) -> events (the parser's, in
// stream order) and bytes to send back:
//   C0 C1           -> S0 S1 S2 (the simple handshake; S2 echoes C1)
//   connect         -> Window Acknowledgement Size, Set Peer Bandwidth, _result
//                      NetConnection.Connect.Success
//   releaseStream, FCPublish -> _result (what ffmpeg's own listener answers releaseStream;
//                      clients ignore either answer)
//   createStream    -> _result with message stream id 1
//   publish         -> reported as rtmp_publish; nothing is sent until the owner decides:
//                      accept_publish() (Stream Begin, onStatus NetStream.Publish.Start) or
//                      refuse_publish() (onStatus level "error" NetStream.Publish.BadName;
//                      ffmpeg and librtmp give up on it)
// After an accepted publish the client's bytes are still fed here (the relay also sends them to
// ffmpeg, whose own answers are dropped): only Acknowledgements are sent, after every window of
// bytes, if the client asked for them with Window Acknowledgement Size.
// A protocol violation (a command before connect, a second connect or publish, too many
// commands, or anything the parser refuses) is reported as rtmp_error; nothing is answered after.
// Pure and single-threaded: the session that owns it serializes access.
#pragma once

#include "streaming/rtmp_parser.hpp"

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cohort::streaming {

class rtmp_responder {
 public:
  // seed: for S1's random bytes (not a secret; a peer only echoes them).
  explicit rtmp_responder(std::uint64_t seed);

  // Consumes all of `bytes`; queues the answers; returns the events they completed, in order.
  std::vector<rtmp_event> feed(std::string_view bytes);
  // The bytes queued for the client since the last call.
  std::string take_reply() { return std::exchange(reply_, {}); }

  // The publish feed() reported is accepted / refused (description: for the client's log).
  void accept_publish();
  void refuse_publish(std::string_view description);

  bool publishing() const { return state_ == state::publishing; }
  bool failed() const { return state_ == state::failed; }
  std::uint64_t bytes_received() const { return received_; }
  const rtmp_client_parser& parser() const { return parser_; }

  static constexpr std::uint32_t window_size = 2500000;  // our Window Ack Size and Set Peer Bandwidth
  static constexpr std::uint32_t stream_id = 1;          // the one message stream createStream hands out
  static constexpr int max_commands = 16;                // answered before a publish; OBS and ffmpeg send 4

 private:
  enum class state { connecting, connected, publish_pending, publishing, failed };

  void on_event(const rtmp_event& e, std::vector<rtmp_event>& out);
  void on_handshake_bytes(std::string_view bytes);
  void answer_connect(double transaction);
  void answer_result(double transaction, bool with_stream_id);
  void send_on_status(std::string_view level, std::string_view code, std::string_view description);
  // Queues one message as chunks of 128 bytes (the default chunk size; Cohort never changes its own).
  void send(std::uint32_t chunk_stream, std::uint8_t type, std::uint32_t message_stream, std::string_view payload);
  void fail(std::string reason, std::vector<rtmp_event>& out);

  rtmp_client_parser parser_;
  state state_ = state::connecting;
  std::uint64_t random_;
  std::array<char, 1536> c1_{};
  std::size_t handshake_seen_ = 0;  // of C0 + C1 (1537 bytes)
  int commands_ = 0;
  std::uint64_t received_ = 0;
  std::uint32_t ack_window_ = 0;    // 0: the client asked for no Acknowledgements
  std::uint64_t acked_ = 0;         // received_ when the last Acknowledgement was queued
  std::string reply_;
};

}  // namespace cohort::streaming

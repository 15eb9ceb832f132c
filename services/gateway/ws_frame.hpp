// RFC 6455 frames as Cohort speaks them after Beast's HTTP handshake: server frames are built
// here (unmasked, never fragmented, no extensions), client frames are parsed here. No sockets:
// websocket_session feeds bytes in and writes bytes out; tests/gateway/ws_frame_test.cpp drives it alone.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace cohort::http::ws {

enum class opcode : std::uint8_t { continuation = 0, text = 1, binary = 2, close = 8, ping = 9, pong = 10 };

// Close codes Cohort sends (RFC 6455 7.4.1).
namespace close_code {
constexpr std::uint16_t normal = 1000, going_away = 1001, protocol_error = 1002, unsupported_data = 1003,
                        no_status = 1005, bad_payload = 1007, policy_error = 1008, too_big = 1009;
}

constexpr std::size_t max_header_bytes = 10;  // a server frame's header: 2, 4 or 10 bytes

// Writes the header of one final, unmasked server frame carrying `payload_size` bytes into `out`
// (at least max_header_bytes long); returns its length.
std::size_t write_header(std::uint8_t* out, opcode op, std::size_t payload_size);

// A whole server frame (header + payload), e.g. a close or a ping.
std::string make_frame(opcode op, std::string_view payload);
// A close frame: the code, then the reason cut to fit 123 bytes (on a UTF-8 boundary).
std::string make_close_frame(std::uint16_t code, std::string_view reason);

// Incremental UTF-8 check (RFC 3629: no overlongs, no surrogates, nothing past U+10FFFF) that
// may be fed a message in pieces cut anywhere, also inside a character.
class utf8_checker {
 public:
  bool feed(std::string_view bytes);    // false on the first invalid byte (and from then on)
  bool complete() const { return need_ == 0 && !bad_; }  // no character left open
  void reset() { *this = utf8_checker(); }

 private:
  std::uint8_t need_ = 0;  // continuation bytes still expected
  std::uint8_t lo_ = 0x80, hi_ = 0xBF;  // the range the next continuation byte must be in
  bool bad_ = false;
};

// What the parser hands up. Called synchronously from frame_parser::feed.
class frame_sink {
 public:
  virtual ~frame_sink() = default;
  // A whole text message (fragments joined), valid UTF-8, at most the size limit.
  virtual void on_text(std::string_view message) = 0;
  virtual void on_ping(std::string_view payload) = 0;
  virtual void on_pong() = 0;
  // The peer's close frame: its code (1005 when it sent none) and reason, both checked.
  virtual void on_close(std::uint16_t code, std::string_view reason) = 0;
};

// Parses a client's byte stream into messages: unmasks (in place), joins fragments, checks UTF-8
// across fragments, enforces the message size limit, answers nothing itself. Binary messages are
// refused (Cohort's protocol is JSON text). Holds no buffer while no message is half-read.
class frame_parser {
 public:
  explicit frame_parser(std::size_t message_max_bytes) : message_max_(message_max_bytes) {}

  // Consumes `size` bytes (modified: unmasked in place). Returns 0 while all is well, else the
  // close code the connection must be closed with (1002 / 1003 / 1007 / 1009), see error().
  // After a close frame or an error the rest is ignored.
  std::uint16_t feed(char* data, std::size_t size, frame_sink& sink);
  const char* error() const { return error_; }
  bool done() const { return done_; }  // a close frame or an error was seen

 private:
  std::uint16_t fail(std::uint16_t code, const char* why);
  std::uint16_t start_frame(frame_sink& sink);
  std::uint16_t end_frame(frame_sink& sink);

  std::size_t message_max_;
  // The frame being read.
  std::uint8_t header_[14]{};
  std::uint8_t header_len_ = 0;     // bytes of header_ received
  bool in_payload_ = false;
  bool fin_ = false;
  opcode op_ = opcode::continuation;
  std::uint8_t mask_[4]{};
  std::uint8_t mask_pos_ = 0;
  std::uint64_t remaining_ = 0;     // payload bytes of this frame not yet received
  // The data message being assembled (only when it spans frames or reads).
  bool in_message_ = false;
  std::string message_;
  utf8_checker utf8_;
  std::string control_;             // a control frame's payload split across reads
  const char* error_ = "";
  bool done_ = false;
};

}  // namespace cohort::http::ws

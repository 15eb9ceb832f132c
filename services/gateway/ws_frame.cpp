#include "gateway/ws_frame.hpp"

#include <algorithm>
#include <cstring>

namespace cohort::http::ws {

std::size_t write_header(std::uint8_t* out, opcode op, std::size_t n) {
  out[0] = static_cast<std::uint8_t>(0x80 | static_cast<std::uint8_t>(op));  // FIN, no RSV bits
  if (n < 126) {
    out[1] = static_cast<std::uint8_t>(n);
    return 2;
  }
  if (n <= 0xFFFF) {
    out[1] = 126;
    out[2] = static_cast<std::uint8_t>(n >> 8);
    out[3] = static_cast<std::uint8_t>(n);
    return 4;
  }
  out[1] = 127;
  for (int i = 0; i < 8; ++i) out[2 + i] = static_cast<std::uint8_t>(static_cast<std::uint64_t>(n) >> (56 - 8 * i));
  return 10;
}

std::string make_frame(opcode op, std::string_view payload) {
  std::uint8_t header[max_header_bytes];
  const auto n = write_header(header, op, payload.size());
  std::string frame(reinterpret_cast<const char*>(header), n);
  frame.append(payload);
  return frame;
}

std::string make_close_frame(std::uint16_t code, std::string_view reason) {
  if (reason.size() > 123) {
    reason = reason.substr(0, 123);
    // Never cut a character in two: drop continuation bytes, then the lead byte they belonged to.
    while (!reason.empty() && (static_cast<unsigned char>(reason.back()) & 0xC0) == 0x80) reason.remove_suffix(1);
    if (!reason.empty() && static_cast<unsigned char>(reason.back()) >= 0xC0) reason.remove_suffix(1);
  }
  std::string payload;
  payload += static_cast<char>(code >> 8);
  payload += static_cast<char>(code & 0xFF);
  payload.append(reason);
  return make_frame(opcode::close, payload);
}

bool utf8_checker::feed(std::string_view bytes) {
  if (bad_) return false;
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  const auto* end = p + bytes.size();
  while (p < end) {
    const unsigned char c = *p++;
    if (need_ == 0) {
      if (c < 0x80) continue;
      lo_ = 0x80;
      hi_ = 0xBF;
      if (c >= 0xC2 && c <= 0xDF) {
        need_ = 1;
      } else if (c >= 0xE0 && c <= 0xEF) {
        need_ = 2;
        if (c == 0xE0) lo_ = 0xA0;  // overlong
        if (c == 0xED) hi_ = 0x9F;  // UTF-16 surrogates
      } else if (c >= 0xF0 && c <= 0xF4) {
        need_ = 3;
        if (c == 0xF0) lo_ = 0x90;  // overlong
        if (c == 0xF4) hi_ = 0x8F;  // past U+10FFFF
      } else {
        bad_ = true;
        return false;
      }
    } else {
      if (c < lo_ || c > hi_) {
        bad_ = true;
        return false;
      }
      --need_;
      lo_ = 0x80;
      hi_ = 0xBF;
    }
  }
  return true;
}

namespace {

bool is_control(opcode op) { return static_cast<std::uint8_t>(op) >= 8; }

// Close codes a peer may send (RFC 6455 7.4.1/7.4.2): 1005, 1006 and 1015 never go on the wire.
bool valid_close_code(std::uint16_t code) {
  if (code >= 3000 && code <= 4999) return true;
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1011);
}

}  // namespace

std::uint16_t frame_parser::fail(std::uint16_t code, const char* why) {
  error_ = why;
  done_ = true;
  message_ = std::string();
  control_ = std::string();
  return code;
}

std::uint16_t frame_parser::start_frame(frame_sink& sink) {
  const std::uint8_t b0 = header_[0], b1 = header_[1];
  if (b0 & 0x70) return fail(close_code::protocol_error, "reserved bits set (no extension was agreed)");
  if (!(b1 & 0x80)) return fail(close_code::protocol_error, "client frames must be masked");
  fin_ = b0 & 0x80;
  op_ = static_cast<opcode>(b0 & 0x0F);
  std::uint64_t len = b1 & 0x7F;
  std::size_t at = 2;
  if (len == 126) {
    len = (std::uint64_t{header_[2]} << 8) | header_[3];
    at = 4;
  } else if (len == 127) {
    len = 0;
    for (int i = 0; i < 8; ++i) len = (len << 8) | header_[2 + i];
    at = 10;
    if (len >> 63) return fail(close_code::protocol_error, "frame length out of range");
  }
  std::memcpy(mask_, header_ + at, 4);
  mask_pos_ = 0;
  remaining_ = len;
  switch (op_) {
    case opcode::close:
    case opcode::ping:
    case opcode::pong:
      if (!fin_ || len > 125) return fail(close_code::protocol_error, "bad control frame");
      break;
    case opcode::binary:
      return fail(close_code::unsupported_data, "binary frames are not supported");
    case opcode::text:
      if (in_message_) return fail(close_code::protocol_error, "new message before the last one ended");
      break;
    case opcode::continuation:
      if (!in_message_) return fail(close_code::protocol_error, "continuation without a message");
      break;
    default:
      return fail(close_code::protocol_error, "unknown opcode");
  }
  if (!is_control(op_)) {
    if (message_.size() + len > message_max_) return fail(close_code::too_big, "message too big");
    in_message_ = true;
  }
  in_payload_ = true;
  if (len == 0) return end_frame(sink);
  return 0;
}

std::uint16_t frame_parser::end_frame(frame_sink& sink) {
  in_payload_ = false;
  header_len_ = 0;
  switch (op_) {
    case opcode::ping:
      sink.on_ping(control_);
      break;
    case opcode::pong:
      sink.on_pong();
      break;
    case opcode::close: {
      if (control_.size() == 1) return fail(close_code::protocol_error, "close frame of one byte");
      std::uint16_t code = close_code::no_status;
      std::string_view reason;
      if (control_.size() >= 2) {
        code = static_cast<std::uint16_t>((static_cast<unsigned char>(control_[0]) << 8) | static_cast<unsigned char>(control_[1]));
        if (!valid_close_code(code)) return fail(close_code::protocol_error, "invalid close code");
        reason = std::string_view(control_).substr(2);
        utf8_checker check;
        if (!check.feed(reason) || !check.complete()) return fail(close_code::bad_payload, "close reason is not UTF-8");
      }
      done_ = true;
      sink.on_close(code, reason);
      break;
    }
    default:
      if (!fin_) return 0;  // more fragments follow
      if (!utf8_.complete()) return fail(close_code::bad_payload, "text is not valid UTF-8");
      in_message_ = false;
      utf8_.reset();
      sink.on_text(message_);
      // Release the buffer: an idle connection holds no message memory.
      message_ = std::string();
      break;
  }
  if (!control_.empty()) control_ = std::string();
  return 0;
}

std::uint16_t frame_parser::feed(char* data, std::size_t size, frame_sink& sink) {
  std::size_t pos = 0;
  while (pos < size && !done_) {
    if (!in_payload_) {
      // Header: 2 bytes, then the extended length and the mask they announce.
      const auto full = [this] {
        const auto l = header_[1] & 0x7F;
        return std::size_t{2} + (l == 126 ? 2 : l == 127 ? 8 : 0) + ((header_[1] & 0x80) ? 4 : 0);
      };
      const std::size_t want = header_len_ >= 2 ? full() : 2;
      const auto take = std::min<std::size_t>(want - header_len_, size - pos);
      std::memcpy(header_ + header_len_, data + pos, take);
      header_len_ = static_cast<std::uint8_t>(header_len_ + take);
      pos += take;
      if (header_len_ < 2 || header_len_ < full()) continue;
      if (const auto rc = start_frame(sink)) return rc;
      continue;
    }
    const auto take = static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, size - pos));
    char* p = data + pos;
    for (std::size_t i = 0; i < take; ++i) p[i] ^= static_cast<char>(mask_[(mask_pos_ + i) & 3]);
    mask_pos_ = static_cast<std::uint8_t>((mask_pos_ + take) & 3);
    const std::string_view chunk(p, take);
    pos += take;
    remaining_ -= take;
    if (is_control(op_)) {
      control_.append(chunk);
    } else {
      if (!utf8_.feed(chunk)) return fail(close_code::bad_payload, "text is not valid UTF-8");
      if (fin_ && remaining_ == 0 && message_.empty()) {
        // The whole message is in this read: hand it up from the read buffer, no copy.
        in_payload_ = false;
        header_len_ = 0;
        if (!utf8_.complete()) return fail(close_code::bad_payload, "text is not valid UTF-8");
        in_message_ = false;
        utf8_.reset();
        sink.on_text(chunk);
        continue;
      }
      message_.append(chunk);
    }
    if (remaining_ == 0)
      if (const auto rc = end_frame(sink)) return rc;
  }
  return 0;
}

}  // namespace cohort::http::ws

#include "streaming/rtmp_parser.hpp"

#include <algorithm>
#include <bit>
#include <utility>

namespace cohort::streaming {

namespace {

using namespace rtmp_message;

constexpr std::uint8_t rtmp_version = 3;
constexpr std::size_t handshake_bytes = 2 * 1536;  // C1 + C2; C0 is read on its own
constexpr std::size_t message_header_size[4] = {11, 7, 3, 0};
constexpr std::uint32_t extended_timestamp = 0xFFFFFF;
// Enough of the first video message to name the codec and an H.264 sequence header's profile:
// byte 0 (frame type, codec id), 1 (AVCPacketType), 2-4 (composition time), then the
// AVCDecoderConfigurationRecord: 5 (version), 6 (profile_idc). Enhanced RTMP: byte 0 has the
// top bit, 1-4 are the FourCC.
constexpr std::size_t video_head_bytes = 7;

bool is_command_or_control(std::uint8_t type) {
  return type == set_chunk_size || type == window_ack_size || type == amf3_command || type == amf0_command;
}

bool is_media(std::uint8_t type) {
  return type == audio || type == video || type == amf3_data || type == amf0_data || type == aggregate;
}

std::uint32_t read_be(const std::uint8_t* p, std::size_t n) {
  std::uint32_t v = 0;
  for (std::size_t i = 0; i < n; ++i) v = (v << 8) | p[i];
  return v;
}

std::size_t basic_header_size(std::uint8_t first) {
  switch (first & 0x3F) {
    case 0: return 2;
    case 1: return 3;
    default: return 1;
  }
}

namespace amf0 {
enum marker : std::uint8_t {
  number = 0x00, boolean = 0x01, string = 0x02, object = 0x03, null = 0x05, undefined = 0x06,
  reference = 0x07, ecma_array = 0x08, object_end = 0x09, strict_array = 0x0A, date = 0x0B,
  long_string = 0x0C, unsupported = 0x0D, xml_document = 0x0F, typed_object = 0x10,
};
}  // namespace amf0

// One AMF0 value, flattened to what a command needs: a string's text, a number, or an
// object's string-valued properties. Everything else is only checked and skipped.
struct amf_value {
  std::uint8_t marker = 0;
  std::string text;
  double number = 0;
  std::vector<std::pair<std::string, std::string>> fields;

  bool is_string() const { return marker == amf0::string || marker == amf0::long_string; }
  std::string field(std::string_view key) const {
    for (const auto& [k, v] : fields)
      if (k == key) return v;
    return {};
  }
};

// Reads AMF0 from one complete message: a value cut short is malformed, not "wait for more".
class amf0_reader {
 public:
  explicit amf0_reader(std::span<const std::uint8_t> in) : in_(in) {}
  bool at_end() const { return pos_ == in_.size(); }

  // Reads one value into *out, or only skips it when out is null.
  bool read(amf_value* out, int depth) {
    std::uint32_t marker = 0;
    if (depth > max_depth || !read_uint(1, marker)) return false;
    if (out) out->marker = static_cast<std::uint8_t>(marker);
    std::uint32_t count = 0;
    switch (marker) {
      case amf0::number: return read_number(out ? &out->number : nullptr);
      case amf0::boolean: return skip(1);
      case amf0::string: return read_text(2, out ? &out->text : nullptr);
      case amf0::long_string: return read_text(4, out ? &out->text : nullptr);
      case amf0::xml_document: return read_text(4, nullptr);
      case amf0::object: return read_properties(out, depth);
      case amf0::typed_object: return read_text(2, nullptr) && read_properties(out, depth);
      // An ECMA array's count is only a hint: the end marker decides, as for an object.
      case amf0::ecma_array: return skip(4) && read_properties(out, depth);
      case amf0::strict_array:
        if (!read_uint(4, count)) return false;
        for (std::uint32_t i = 0; i < count; ++i)
          if (!read(nullptr, depth + 1)) return false;
        return true;
      case amf0::date: return skip(10);
      case amf0::reference: return skip(2);
      case amf0::null: case amf0::undefined: case amf0::unsupported: return true;
      default: return false;  // movie clip, recordset, a stray object end, the switch to AMF3
    }
  }

 private:
  static constexpr int max_depth = 32;  // recursion guard against hostile nesting

  bool skip(std::size_t n) {
    if (in_.size() - pos_ < n) return false;
    pos_ += n;
    return true;
  }
  bool read_uint(std::size_t n, std::uint32_t& out) {
    if (in_.size() - pos_ < n) return false;
    out = read_be(in_.data() + pos_, n);
    pos_ += n;
    return true;
  }
  bool read_number(double* out) {
    if (in_.size() - pos_ < 8) return false;
    std::uint64_t bits = 0;
    for (std::size_t i = 0; i < 8; ++i) bits = (bits << 8) | in_[pos_ + i];
    if (out) *out = std::bit_cast<double>(bits);
    pos_ += 8;
    return true;
  }
  bool read_text(std::size_t length_bytes, std::string* out) {
    std::uint32_t length = 0;
    if (!read_uint(length_bytes, length) || in_.size() - pos_ < length) return false;
    if (out) out->assign(in_.begin() + pos_, in_.begin() + pos_ + length);
    pos_ += length;
    return true;
  }
  // Key/value pairs up to an empty key and the object-end marker.
  bool read_properties(amf_value* out, int depth) {
    for (;;) {
      std::string key;
      if (!read_text(2, &key)) return false;
      std::uint32_t marker = 0;
      if (key.empty()) return read_uint(1, marker) && marker == amf0::object_end;
      amf_value value;
      if (!read(out ? &value : nullptr, depth + 1)) return false;
      if (out && value.is_string()) out->fields.emplace_back(std::move(key), std::move(value.text));
    }
  }

  std::span<const std::uint8_t> in_;
  std::size_t pos_ = 0;
};

}  // namespace

std::vector<rtmp_event> rtmp_client_parser::feed(std::string_view bytes) {
  return feed(std::span(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()));
}

std::vector<rtmp_event> rtmp_client_parser::feed(std::span<const std::uint8_t> bytes) {
  // Every step consumes at least one byte, so this ends.
  while (!bytes.empty() && state_ != state::failed) {
    std::size_t used = 0;
    switch (state_) {
      case state::version: used = on_version(bytes); break;
      case state::handshake: used = on_handshake(bytes); break;
      case state::header: used = on_header(bytes); break;
      case state::payload: used = on_payload(bytes); break;
      case state::failed: break;
    }
    bytes = bytes.subspan(used);
  }
  return std::exchange(events_, {});
}

std::size_t rtmp_client_parser::buffered_bytes() const {
  std::size_t total = header_len_;
  for (const auto& [id, s] : streams_) total += s.body.capacity();
  return total;
}

std::size_t rtmp_client_parser::on_version(std::span<const std::uint8_t> bytes) {
  if (bytes[0] != rtmp_version) {
    fail("unsupported RTMP version " + std::to_string(bytes[0]) + " in C0 (want 3)");
  } else {
    handshake_left_ = handshake_bytes;
    state_ = state::handshake;
  }
  return 1;
}

// C1 and C2 are random and echo bytes the relay has no use for.
std::size_t rtmp_client_parser::on_handshake(std::span<const std::uint8_t> bytes) {
  const std::size_t n = std::min(handshake_left_, bytes.size());
  handshake_left_ -= n;
  if (handshake_left_ == 0) {
    handshake_done_ = true;
    state_ = state::header;
  }
  return n;
}

// Collects a chunk header across feeds: its size is only known as its bytes arrive.
std::size_t rtmp_client_parser::on_header(std::span<const std::uint8_t> bytes) {
  std::size_t used = 0;
  for (;;) {
    const std::size_t need = header_size();
    if (header_len_ == need) {
      start_chunk();
      return used;
    }
    if (used == bytes.size()) return used;
    const std::size_t n = std::min(need - header_len_, bytes.size() - used);
    std::copy_n(bytes.begin() + used, n, header_.begin() + header_len_);
    header_len_ += n;
    used += n;
  }
}

// The full header size as far as the bytes so far tell: basic header, message header by fmt,
// then an extended timestamp when the 24-bit field says so (for fmt 3: when the chunk stream's
// last header said so).
std::size_t rtmp_client_parser::header_size() const {
  if (header_len_ == 0) return 1;
  const std::size_t basic = basic_header_size(header_[0]);
  if (header_len_ < basic) return basic;
  const int fmt = header_[0] >> 6;
  const std::size_t fixed = basic + message_header_size[fmt];
  if (header_len_ < fixed) return fixed;
  bool extended = false;
  if (fmt < 3) {
    extended = read_be(&header_[basic], 3) == extended_timestamp;
  } else if (auto it = streams_.find(chunk_stream_id()); it != streams_.end()) {
    extended = it->second.extended;
  }
  return fixed + (extended ? 4 : 0);
}

std::uint32_t rtmp_client_parser::chunk_stream_id() const {
  switch (header_[0] & 0x3F) {
    case 0: return 64 + header_[1];
    case 1: return 64 + header_[1] + 256u * header_[2];
    default: return header_[0] & 0x3F;
  }
}

void rtmp_client_parser::start_chunk() {
  const std::uint32_t id = chunk_stream_id();
  auto it = streams_.find(id);
  if (it == streams_.end()) {
    if (streams_.size() >= limits_.max_chunk_streams)
      return fail("more than " + std::to_string(limits_.max_chunk_streams) + " chunk streams");
    // Like ffmpeg, a first header of fmt 1-3 inherits zeros.
    it = streams_.emplace(id, chunk_stream{}).first;
  }
  chunk_stream& s = it->second;
  if ((header_[0] >> 6) < 3 && s.remaining != 0)
    return fail("new message header on chunk stream " + std::to_string(id) + " before its message ended");
  apply_message_header(s);
  header_len_ = 0;
  state_ = state::header;
  if (s.remaining == 0) {
    begin_message(s);
    if (state_ == state::failed) return;
    if (s.remaining == 0) return finish_message(s);  // an empty message has no payload to wait for
  }
  current_ = &s;
  chunk_left_ = std::min(chunk_size_, s.remaining);
  state_ = state::payload;
}

void rtmp_client_parser::apply_message_header(chunk_stream& s) {
  const int fmt = header_[0] >> 6;
  const std::uint8_t* h = &header_[basic_header_size(header_[0])];
  if (fmt < 3) {
    s.timestamp_field = read_be(h, 3);
    s.extended = s.timestamp_field == extended_timestamp;
  }
  if (fmt < 2) {
    s.length = read_be(h + 3, 3);
    s.type_id = h[6];
  }
  // The message stream id (fmt 0, little-endian) is not needed to find commands or media.
  if (s.remaining != 0) return;  // a continuation chunk: the message keeps its timestamp
  const std::uint32_t field = s.extended ? read_be(h + message_header_size[fmt], 4) : s.timestamp_field;
  // fmt 0 carries the absolute time; the others a delta (fmt 3 after fmt 0 repeats its field).
  s.timestamp = fmt == 0 ? field : s.timestamp + field;
}

void rtmp_client_parser::begin_message(chunk_stream& s) {
  if (s.length > limits_.max_message_bytes)
    return fail("message of " + std::to_string(s.length) + " bytes is over the limit");
  s.buffered = is_command_or_control(s.type_id);
  if (s.buffered && s.length > limits_.max_command_bytes)
    return fail("command message of " + std::to_string(s.length) + " bytes is over the limit");
  if (s.buffered) s.body.reserve(s.length);
  s.remaining = s.length;
  if (is_media(s.type_id) && !media_started_) {
    media_started_ = true;
    events_.emplace_back(rtmp_media_started{s.type_id, s.timestamp});
  }
  if (s.type_id == video && !video_reported_ && !video_probe_) {
    video_probe_ = &s;
    if (s.remaining == 0) report_video_format();
  }
}

void rtmp_client_parser::report_video_format() {
  rtmp_video_format f;
  const auto& h = video_head_;
  if (!h.empty() && (h[0] & 0x80)) {
    if (h.size() >= 5) f.fourcc.assign(h.begin() + 1, h.begin() + 5);
  } else if (!h.empty()) {
    f.codec_id = h[0] & 0x0F;
    if (f.codec_id == 7 && h.size() >= 7 && h[1] == 0) f.avc_profile = h[6];
  }
  video_reported_ = true;
  video_probe_ = nullptr;
  video_head_ = {};
  events_.emplace_back(std::move(f));
}

bool browser_playable(const rtmp_video_format& f) {
  if (f.codec_id != 7 && f.fourcc != "avc1") return false;
  switch (f.avc_profile) {
    case -1: case 66: case 77: case 88: case 100: return true;
    default: return false;  // 110 High 10, 122 High 4:2:2, 244 High 4:4:4, 44 CAVLC 4:4:4, ...
  }
}

std::size_t rtmp_client_parser::on_payload(std::span<const std::uint8_t> bytes) {
  const std::size_t n = std::min<std::size_t>(chunk_left_, bytes.size());
  chunk_stream& s = *current_;
  if (s.buffered) {
    s.body.insert(s.body.end(), bytes.begin(), bytes.begin() + n);
  } else {
    media_bytes_ += n;
    if (video_probe_ == &s) {
      const auto take = std::min(n, video_head_bytes - video_head_.size());
      video_head_.insert(video_head_.end(), bytes.begin(), bytes.begin() + take);
    }
  }
  s.remaining -= n;
  chunk_left_ -= n;
  if (video_probe_ == &s && (video_head_.size() == video_head_bytes || s.remaining == 0)) report_video_format();
  if (chunk_left_ == 0) {
    state_ = state::header;
    if (s.remaining == 0) finish_message(s);
  }
  return n;
}

void rtmp_client_parser::finish_message(chunk_stream& s) {
  if (!s.buffered) return;
  const std::vector<std::uint8_t> body = std::exchange(s.body, {});  // frees the buffer
  if (s.type_id == set_chunk_size) return on_set_chunk_size(body);
  if (s.type_id == window_ack_size) return on_window_ack_size(body);
  if (s.type_id == amf0_command) return on_command(body);
  // AMF3 command: a 0 byte, then the same AMF0 a type-20 message carries.
  if (body.empty() || body[0] != 0) return fail("AMF3-encoded command is not supported");
  on_command(std::span(body).subspan(1));
}

void rtmp_client_parser::on_set_chunk_size(std::span<const std::uint8_t> body) {
  if (body.size() < 4) return fail("Set Chunk Size shorter than 4 bytes");
  const std::uint32_t size = read_be(body.data(), 4);
  if (size & 0x80000000u) return fail("Set Chunk Size with the top bit set");
  if (size == 0) return fail("Set Chunk Size of 0");
  chunk_size_ = size;
}

void rtmp_client_parser::on_window_ack_size(std::span<const std::uint8_t> body) {
  if (body.size() < 4) return fail("Window Acknowledgement Size shorter than 4 bytes");
  events_.emplace_back(rtmp_window_ack_size{read_be(body.data(), 4)});
}

// Command name, transaction id, command object, then arguments. Only the first five values are
// kept; the rest is still checked, so a broken tail fails the message.
void rtmp_client_parser::on_command(std::span<const std::uint8_t> body) {
  amf0_reader reader(body);
  std::vector<amf_value> values;
  while (!reader.at_end()) {
    amf_value* out = values.size() < 5 ? &values.emplace_back() : nullptr;
    if (!reader.read(out, 0)) return fail("malformed or truncated AMF0 value in a command");
  }
  if (values.empty() || !values[0].is_string()) return fail("command without a name");
  const std::string& name = values[0].text;
  const double transaction = values.size() > 1 && values[1].marker == amf0::number ? values[1].number : 0;
  if (name == "connect") {
    if (values.size() < 3 || values[2].marker != amf0::object) return fail("connect without a command object");
    events_.emplace_back(rtmp_connect{values[2].field("app"), values[2].field("tcUrl"), transaction});
  } else if (name == "publish") {
    if (values.size() < 4 || !values[3].is_string()) return fail("publish without a stream name");
    events_.emplace_back(rtmp_publish{values[3].text, values.size() > 4 ? values[4].text : "",
                         transaction});
  } else if ((name == "releaseStream" || name == "FCPublish") && values.size() > 3 && values[3].is_string()) {
    events_.emplace_back(rtmp_stream_announce{name, values[3].text, transaction});
  } else if (name == "createStream") {
    events_.emplace_back(rtmp_create_stream{transaction});
  }
}

void rtmp_client_parser::fail(std::string reason) {
  state_ = state::failed;
  streams_.clear();
  current_ = nullptr;
  video_probe_ = nullptr;  // pointed into streams_
  header_len_ = 0;
  events_.emplace_back(rtmp_error{std::move(reason)});
}

}  // namespace cohort::streaming

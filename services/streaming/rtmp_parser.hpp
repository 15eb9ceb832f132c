// Reader of the client->server half of an RTMP connection (handshake, chunk stream, AMF0
// commands): it reports the commands (with their transaction ids, which the answers must
// repeat), so rtmp_responder can answer them and the ingest relay can read the stream key
// before any ffmpeg exists. It never answers anything itself.
// Bytes may arrive split anywhere. Memory is bounded: commands are buffered up to a limit,
// media is only counted. Strict where ffmpeg is lenient (a new header in the middle of a
// message, an AMF value cut short): a disagreement ends in an error, so the relay closes
// instead of forwarding something it did not check.
// Pure and single-threaded: the session that owns it serializes access.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <variant>
#include <vector>

namespace cohort::streaming {

// RTMP message type ids (RTMP 1.0, 5.4 and 7.1): what the client parser reads and what the
// server-side responder writes. In a namespace of their own: the names are common words.
namespace rtmp_message {
enum type : std::uint8_t {
  set_chunk_size = 1,
  acknowledgement = 3,
  user_control = 4,
  window_ack_size = 5,
  set_peer_bandwidth = 6,
  audio = 8,
  video = 9,
  amf3_data = 15,
  amf3_command = 17,
  amf0_data = 18,
  amf0_command = 20,
  aggregate = 22,
};
}  // namespace rtmp_message

// transaction_id: the command's second value, which its _result must repeat (0 when absent).
struct rtmp_connect {
  std::string app;
  std::string tc_url;
  double transaction_id = 0;
};

// The "publish" command: stream_name is the stream key as sent, "?query" included.
struct rtmp_publish {
  std::string stream_name;
  std::string publish_type;  // "live", "record", "append" (empty when the client sent none)
  double transaction_id = 0;
};

// "releaseStream" or "FCPublish": FMLE-style clients name the stream before publishing.
// Informative only; the key check belongs to rtmp_publish.
struct rtmp_stream_announce {
  std::string command;
  std::string stream_name;
  double transaction_id = 0;
};

// "createStream": the client wants a message stream id to publish on.
struct rtmp_create_stream {
  double transaction_id = 0;
};

// Window Acknowledgement Size (protocol control message 5): the client wants an
// Acknowledgement after every `size` bytes it sent.
struct rtmp_window_ack_size {
  std::uint32_t size = 0;
};

// The first audio, video, data or aggregate message has begun (reported at its header, before
// its payload).
struct rtmp_media_started {
  std::uint8_t type_id = 0;
  std::uint32_t timestamp = 0;
};

// What the first video message carries, read from its first bytes (FLV VIDEODATA), reported
// once, before its payload is complete: the codec, and for an H.264 sequence header (which
// encoders send first) the profile, which tells 4:2:2, 4:4:4 and 10-bit apart from what browsers play.
struct rtmp_video_format {
  std::uint8_t codec_id = 0;  // FLV CodecID: 7 H.264, 12 HEVC (a common extension), 2 Sorenson...; 0 when enhanced
  std::string fourcc;         // Enhanced RTMP (the first byte's top bit): "hvc1", "av01", "vp09", "avc1"
  int avc_profile = -1;       // profile_idc of an H.264 sequence header; -1 when the message is not one
};

// H.264 in a profile every browser decodes (Baseline, Main, Extended, High: 8-bit 4:2:0), so
// it may pass through untouched. An H.264 stream that starts without a sequence header is
// trusted as well (nothing tells otherwise).
bool browser_playable(const rtmp_video_format& f);

// The parser stopped; it ignores every later byte.
struct rtmp_error {
  std::string reason;
};

using rtmp_event = std::variant<rtmp_connect, rtmp_publish, rtmp_stream_announce, rtmp_create_stream, rtmp_window_ack_size,
                                rtmp_media_started, rtmp_video_format, rtmp_error>;

class rtmp_client_parser {
 public:
  struct limits {
    std::size_t max_command_bytes = 64 * 1024;         // one AMF command message
    std::size_t max_message_bytes = 16 * 1024 * 1024;  // any message, media included
    std::size_t max_chunk_streams = 64;
  };

  rtmp_client_parser() = default;
  explicit rtmp_client_parser(limits l) : limits_(l) {}

  // Consumes all of `bytes`; returns the events they completed, in stream order.
  std::vector<rtmp_event> feed(std::span<const std::uint8_t> bytes);
  std::vector<rtmp_event> feed(std::string_view bytes);

  bool handshake_done() const { return handshake_done_; }
  bool failed() const { return state_ == state::failed; }
  std::uint32_t chunk_size() const { return chunk_size_; }  // the client's, as last set
  std::uint64_t media_bytes() const { return media_bytes_; }  // payload skipped unbuffered
  std::size_t buffered_bytes() const;  // memory held for partial headers and messages

 private:
  enum class state { version, handshake, header, payload, failed };

  struct chunk_stream {
    std::uint32_t timestamp_field = 0;  // last 24-bit timestamp or delta field
    bool extended = false;              // that field was 0xFFFFFF: 4 more bytes follow every header
    std::uint32_t timestamp = 0;
    std::uint32_t length = 0;
    std::uint8_t type_id = 0;
    std::uint32_t remaining = 0;        // bytes of the current message still to come
    bool buffered = false;              // a command or control message, kept in body
    std::vector<std::uint8_t> body;
  };

  std::size_t on_version(std::span<const std::uint8_t> bytes);
  std::size_t on_handshake(std::span<const std::uint8_t> bytes);
  std::size_t on_header(std::span<const std::uint8_t> bytes);
  std::size_t on_payload(std::span<const std::uint8_t> bytes);
  std::size_t header_size() const;
  std::uint32_t chunk_stream_id() const;
  void start_chunk();
  void apply_message_header(chunk_stream& s);
  void begin_message(chunk_stream& s);
  void finish_message(chunk_stream& s);
  void on_set_chunk_size(std::span<const std::uint8_t> body);
  void on_window_ack_size(std::span<const std::uint8_t> body);
  void on_command(std::span<const std::uint8_t> body);
  void fail(std::string reason);
  void report_video_format();

  limits limits_;
  state state_ = state::version;
  bool handshake_done_ = false;
  std::size_t handshake_left_ = 0;
  std::array<std::uint8_t, 18> header_{};  // basic (<= 3) + message (<= 11) + extended timestamp (4)
  std::size_t header_len_ = 0;
  std::unordered_map<std::uint32_t, chunk_stream> streams_;  // node-based: current_ stays valid
  chunk_stream* current_ = nullptr;
  std::uint32_t chunk_left_ = 0;  // payload bytes left in the current chunk
  std::uint32_t chunk_size_ = 128;
  std::uint64_t media_bytes_ = 0;
  bool media_started_ = false;
  // The first video message's leading bytes, until rtmp_video_format is reported.
  const chunk_stream* video_probe_ = nullptr;
  bool video_reported_ = false;
  std::vector<std::uint8_t> video_head_;
  std::vector<rtmp_event> events_;
};

}  // namespace cohort::streaming

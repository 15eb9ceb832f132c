#include "streaming/rtmp_parser.hpp"

#include <catch2/catch.hpp>

#include <bit>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <random>
#include <sstream>

using namespace cohort::streaming;

namespace {

// ---- what the parser reported, as one comparable line per event

struct describe {
  std::string operator()(const rtmp_connect& e) const { return "connect " + e.app + " " + e.tc_url; }
  std::string operator()(const rtmp_publish& e) const { return "publish " + e.stream_name + " " + e.publish_type; }
  std::string operator()(const rtmp_stream_announce& e) const { return e.command + " " + e.stream_name; }
  std::string operator()(const rtmp_create_stream&) const { return "createStream"; }
  std::string operator()(const rtmp_window_ack_size& e) const { return "window " + std::to_string(e.size); }
  std::string operator()(const rtmp_media_started& e) const {
    return "media " + std::to_string(e.type_id) + " @" + std::to_string(e.timestamp);
  }
  std::string operator()(const rtmp_video_format& e) const {
    return "video " + (e.fourcc.empty() ? std::to_string(e.codec_id) : e.fourcc) + " " + std::to_string(e.avc_profile);
  }
  std::string operator()(const rtmp_error& e) const { return "error " + e.reason; }
};

std::vector<std::string> lines(const std::vector<rtmp_event>& events) {
  std::vector<std::string> out;
  for (const auto& e : events) out.push_back(std::visit(describe{}, e));
  return out;
}

std::vector<std::string> feed_in_pieces(rtmp_client_parser& p, std::string_view bytes, std::size_t max_piece,
                                        unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<std::size_t> size(1, max_piece);
  std::vector<std::string> out;
  for (std::size_t pos = 0; pos < bytes.size();) {
    const std::size_t n = std::min(size(rng), bytes.size() - pos);
    for (auto& line : lines(p.feed(bytes.substr(pos, n)))) out.push_back(std::move(line));
    pos += n;
  }
  return out;
}

// Parses `bytes` whole, and checks one byte at a time reports exactly the same.
std::vector<std::string> parse(std::string_view bytes, rtmp_client_parser::limits l = {}) {
  rtmp_client_parser whole(l);
  const auto expected = lines(whole.feed(bytes));
  rtmp_client_parser bytewise(l);
  CHECK(feed_in_pieces(bytewise, bytes, 1, 0) == expected);
  return expected;
}

bool has_error(const std::vector<std::string>& events, std::string_view words) {
  return !events.empty() && events.back().rfind("error ", 0) == 0 && events.back().find(words) != std::string::npos;
}

// ---- hand-built client bytes

std::string be(std::uint64_t v, int n) {
  std::string out;
  for (int i = n - 1; i >= 0; --i) out += static_cast<char>((v >> (8 * i)) & 0xFF);
  return out;
}

std::string handshake(char version = 3) { return version + std::string(2 * 1536, '\x5a'); }

std::string amf_str(std::string_view s) { return "\x02" + be(s.size(), 2) + std::string(s); }
std::string amf_num(double d) { return std::string(1, '\0') + be(std::bit_cast<std::uint64_t>(d), 8); }
std::string amf_null() { return "\x05"; }
std::string amf_obj(const std::vector<std::pair<std::string, std::string>>& props) {
  std::string out = "\x03";
  for (const auto& [k, v] : props) out += be(k.size(), 2) + k + v;
  return out + std::string("\0\0\x09", 3);
}

std::string connect_cmd(std::string_view app, std::string_view tc_url) {
  return amf_str("connect") + amf_num(1) + amf_obj({{"app", amf_str(app)}, {"tcUrl", amf_str(tc_url)}});
}
std::string publish_cmd(std::string_view key) {
  return amf_str("publish") + amf_num(5) + amf_null() + amf_str(key) + amf_str("live");
}
std::string named_cmd(std::string_view name, std::string_view key) {
  return amf_str(name) + amf_num(2) + amf_null() + amf_str(key);
}

std::string basic_header(int fmt, std::uint32_t csid) {
  const char f = static_cast<char>(fmt << 6);
  if (csid < 64) return std::string(1, static_cast<char>(f | csid));
  if (csid < 320) return std::string(1, f) + static_cast<char>(csid - 64);
  return std::string(1, static_cast<char>(f | 1)) + static_cast<char>((csid - 64) & 0xFF) +
         static_cast<char>((csid - 64) >> 8);
}

// A message to chunk, built as command(...) or media(...) then .on(csid), .at(timestamp) or
// .claiming(length).
struct message {
  std::uint32_t csid = 3;
  std::uint32_t timestamp = 0;  // or the delta, for fmt 1-3; >= 0xFFFFFF goes extended
  std::uint8_t type = 20;
  std::string payload;
  std::optional<std::uint32_t> length;  // what the header claims, when not the payload size

  message on(std::uint32_t id) const { return with([&](message& m) { m.csid = id; }); }
  message at(std::uint32_t t) const { return with([&](message& m) { m.timestamp = t; }); }
  message claiming(std::uint32_t n) const { return with([&](message& m) { m.length = n; }); }
  template <class F> message with(F change) const {
    message m = *this;
    change(m);
    return m;
  }
};

message command(std::string payload, std::uint8_t type = 20) {
  message m;
  m.type = type;
  m.payload = std::move(payload);
  return m;
}
message media(std::uint8_t type, std::string payload) { return command(std::move(payload), type).on(6); }

// One message as chunks of `chunk_size`: a header of `fmt` first, fmt 3 for the rest, each
// repeating the extended timestamp when there is one.
std::vector<std::string> chunks(int fmt, const message& m, std::size_t chunk_size = 128) {
  const bool extended = m.timestamp >= 0xFFFFFF;
  const std::string ext = extended ? be(m.timestamp, 4) : "";
  std::string header = basic_header(fmt, m.csid);
  if (fmt < 3) header += be(extended ? 0xFFFFFF : m.timestamp, 3);
  if (fmt < 2) header += be(m.length.value_or(m.payload.size()), 3) + static_cast<char>(m.type);
  if (fmt == 0) header += std::string("\x01\0\0\0", 4);
  std::vector<std::string> out{header + ext};
  for (std::size_t pos = 0; pos < m.payload.size(); pos += chunk_size) {
    if (pos > 0) out.push_back(basic_header(3, m.csid) + ext);
    out.back() += m.payload.substr(pos, chunk_size);
  }
  return out;
}

std::string join(const std::vector<std::string>& parts) {
  std::string out;
  for (const auto& p : parts) out += p;
  return out;
}

std::string set_chunk_size(std::uint32_t size) {
  return join(chunks(0, command(be(size, 4), 1).on(2)));
}

// ---- captured bytes

std::string fixture(const std::string& name) {
  const char* dir = std::getenv("COHORT_SOURCE_DIR");
  // ctest sets COHORT_SOURCE_DIR; run by hand, the source tree is where this file is.
  const std::filesystem::path root =
      dir ? std::filesystem::path(dir) : std::filesystem::path(__FILE__).parent_path().parent_path().parent_path();
  std::ifstream in(root / "tests/streaming/fixtures" / name, std::ios::binary);
  INFO("fixture " << name << " (regenerate with tests/streaming/fixtures/capture.py)");
  REQUIRE(in);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

// The events that matter for the key check, in order; ignores the tcUrl's port.
std::vector<std::string> key_check_events(const std::vector<std::string>& events) {
  std::vector<std::string> out;
  for (const auto& e : events) {
    if (e.rfind("connect ", 0) == 0) out.push_back(e.substr(0, e.find(' ', 8)));
    else if (e.rfind("media ", 0) == 0) out.push_back("media");
    else out.push_back(e);
  }
  return out;
}

const std::vector<std::string> ffmpeg_publish_events = {
    "connect live", "releaseStream SECRETKEY123", "FCPublish SECRETKEY123", "createStream", "publish SECRETKEY123 live", "media",
    "video 7 100"};  // libx264's yuv420p default: High

}  // namespace

TEST_CASE("an ffmpeg publish yields connect, then publish with the key, then media, however it is split",
          "[streaming]") {
  for (const std::string name : {"ffmpeg_publish.bin", "ffmpeg_publish_chunk4096.bin"}) {
    INFO(name);
    const std::string bytes = fixture(name);
    rtmp_client_parser whole;
    const auto expected = lines(whole.feed(bytes));
    CHECK(key_check_events(expected) == ffmpeg_publish_events);
    CHECK(expected.front().rfind("connect live rtmp://127.0.0.1:", 0) == 0);
    CHECK(expected.front().substr(expected.front().size() - 5) == "/live");
    CHECK(whole.handshake_done());
    CHECK_FALSE(whole.failed());
    // Nearly all of what follows the handshake is audio and video, none of it kept.
    CHECK(whole.media_bytes() > (bytes.size() - 3073) * 9 / 10);
    CHECK(whole.buffered_bytes() < 1024);

    rtmp_client_parser bytewise;
    CHECK(feed_in_pieces(bytewise, bytes, 1, 0) == expected);
    CHECK(bytewise.media_bytes() == whole.media_bytes());
    for (unsigned seed : {1u, 2u, 3u}) {
      rtmp_client_parser random;
      CHECK(feed_in_pieces(random, bytes, 3000, seed) == expected);
      CHECK(random.media_bytes() == whole.media_bytes());
    }
  }
}

TEST_CASE("ffmpeg's echo of a server Set Chunk Size switches the chunk size mid-media", "[streaming]") {
  // The capture relay announced 4096 to the publisher after 16 KiB; ffmpeg echoes it as a
  // fmt-3 chunk on chunk stream 2 and writes bigger chunks from there on.
  rtmp_client_parser plain;
  plain.feed(fixture("ffmpeg_publish.bin"));
  CHECK(plain.chunk_size() == 128);
  rtmp_client_parser switched;
  switched.feed(fixture("ffmpeg_publish_chunk4096.bin"));
  CHECK(switched.chunk_size() == 4096);
  CHECK_FALSE(switched.failed());
}

TEST_CASE("chunk stream ids in the 2- and 3-byte forms keep their own state while interleaved", "[streaming]") {
  // 65 and 320 would collide if the third byte were added unshifted; 64 and 320 if it were dropped.
  for (std::uint32_t two_byte : {64u, 65u, 100u, 319u}) {
    for (std::uint32_t three_byte : {320u, 5000u, 65599u}) {
      INFO(two_byte << " and " << three_byte);
      const auto connect = chunks(0, command(connect_cmd("live", std::string(300, 't'))).on(two_byte));
      const auto video = chunks(0, media(9, std::string(700, 'v')).on(three_byte).at(40));
      std::string bytes = handshake();
      for (std::size_t i = 0; i < std::max(connect.size(), video.size()); ++i) {
        if (i < video.size()) bytes += video[i];
        if (i < connect.size()) bytes += connect[i];
      }
      bytes += join(chunks(0, command(publish_cmd("K")).on(two_byte)));
      CHECK(parse(bytes) ==
            std::vector<std::string>{"media 9 @40", "video 6 -1", "connect live " + std::string(300, 't'), "publish K live"});
    }
  }
}

TEST_CASE("a chunk stream id means the same in the 2- and 3-byte forms", "[streaming]") {
  auto connect = chunks(0, command(connect_cmd("live", std::string(200, 't'))).on(100));
  REQUIRE(connect.size() == 2);
  REQUIRE(connect[1].substr(0, 2) == basic_header(3, 100));
  connect[1].replace(0, 2, std::string("\xC1\x24\x00", 3));  // 100 again, spelled in 3 bytes
  CHECK(parse(handshake() + join(connect)) == std::vector<std::string>{"connect live " + std::string(200, 't')});
}

TEST_CASE("type 1, 2 and 3 headers reuse the length, type and timestamp delta of their chunk stream", "[streaming]") {
  std::string bytes = handshake();
  bytes += join(chunks(0, command(connect_cmd("live", "rtmp://h/live"))));
  bytes += join(chunks(1, command(named_cmd("FCPublish", "AAAA"))));           // new length
  bytes += join(chunks(2, command(named_cmd("FCPublish", "BBBB"))));           // same length and type
  bytes += join(chunks(3, command(named_cmd("FCPublish", "CCCC"))));           // everything repeated
  bytes += join(chunks(1, command(publish_cmd("KEY") + std::string(200, '\x05'))));  // 2 chunks
  bytes += join(chunks(0, command(be(128, 4), 1).on(6).at(1000)));  // a control message
  bytes += join(chunks(1, media(9, std::string(10, 'v')).at(33)));
  CHECK(parse(bytes) == std::vector<std::string>{"connect live rtmp://h/live", "FCPublish AAAA", "FCPublish BBBB",
                                                 "FCPublish CCCC", "publish KEY live", "media 9 @1033", "video 6 -1"});
}

TEST_CASE("a type 3 header starting a message adds the last delta to the timestamp", "[streaming]") {
  std::string bytes = handshake();
  bytes += join(chunks(0, command(be(128, 4), 1).on(4).at(500)));  // @500
  bytes += join(chunks(2, command(be(128, 4), 1).on(4).at(20)));            // @520, same type
  bytes += join(chunks(3, command(be(128, 4), 1).on(4)));                             // @540
  bytes += join(chunks(1, media(8, "a").on(4).at(20)));        // @560
  CHECK(parse(bytes) == std::vector<std::string>{"media 8 @560"});
}

TEST_CASE("extended timestamps are read on every header that needs them, type 3 continuations included",
          "[streaming]") {
  std::string bytes = handshake();
  // 3 chunks, each followed by the 4-byte timestamp: missing one would misread the payload.
  bytes += join(chunks(0, command(connect_cmd("live", std::string(300, 'x'))).at(0x01000000)));
  bytes += join(chunks(1, command(publish_cmd("KEY")).at(0xFFFFFF)));
  // A type 3 header starting a message after an extended one carries it too.
  bytes += join(chunks(3, command(publish_cmd("KEZ")).at(0xFFFFFF)));
  bytes += join(chunks(0, media(9, std::string(300, 'v')).on(7).at(0x12345678)));
  bytes += join(chunks(0, command(publish_cmd("AFTER"))));
  CHECK(parse(bytes) == std::vector<std::string>{"connect live " + std::string(300, 'x'), "publish KEY live",
                                                 "publish KEZ live", "media 9 @305419896", "video 6 -1",
                                                 "publish AFTER live"});
}

TEST_CASE("Set Chunk Size applies to the chunks after it, on every chunk stream", "[streaming]") {
  const auto video = chunks(0, media(9, std::string(128 + 3000, 'v')), 4096);
  REQUIRE(video.size() == 1);
  std::string bytes = handshake();
  bytes += video[0].substr(0, 12 + 128);  // the first chunk at the default 128
  bytes += set_chunk_size(4096);
  bytes += basic_header(3, 6) + video[0].substr(12 + 128);  // the rest in one chunk
  bytes += join(chunks(0, command(connect_cmd("live", std::string(3000, 'u'))), 4096));
  CHECK(parse(bytes) == std::vector<std::string>{"media 9 @0", "video 6 -1", "connect live " + std::string(3000, 'u')});
  rtmp_client_parser p;
  p.feed(bytes);
  CHECK(p.chunk_size() == 4096);
  CHECK(p.media_bytes() == 128 + 3000);
}

TEST_CASE("an AMF3-wrapped command (type 17) is read like its AMF0 form", "[streaming]") {
  std::string bytes = handshake();
  bytes += join(chunks(0, command(std::string(1, '\0') + connect_cmd("live", "rtmp://h/live"), 17)));
  bytes += join(chunks(0, command(std::string(1, '\0') + publish_cmd("KEY"), 17).on(8)));
  CHECK(parse(bytes) == std::vector<std::string>{"connect live rtmp://h/live", "publish KEY live"});
}

TEST_CASE("the stream key keeps its query string", "[streaming]") {
  const std::string bytes = handshake() + join(chunks(0, command(publish_cmd("SECRETKEY123?token=abc&x=1"))));
  CHECK(parse(bytes) == std::vector<std::string>{"publish SECRETKEY123?token=abc&x=1 live"});
}

TEST_CASE("unknown AMF0 values around the fields that matter are skipped", "[streaming]") {
  const std::string ecma = "\x08" + be(1, 4) + be(1, 2) + "k" + amf_str("v") + std::string("\0\0\x09", 3);
  const std::string nested = amf_obj({{"n", amf_num(2)},
                                      {"b", "\x01\x01"},
                                      {"u", "\x06"},
                                      {"d", "\x0B" + std::string(10, '\0')},
                                      {"ecma", ecma},
                                      {"strict", "\x0A" + be(2, 4) + amf_null() + amf_str("s")},
                                      {"long", "\x0C" + be(3, 4) + "abc"},
                                      {"obj", amf_obj({{"app", amf_str("inner")}})}});
  const std::string cmd = amf_str("connect") + amf_num(1) +
                          amf_obj({{"flashVer", nested},
                                   {"app", amf_str("live")},
                                   {"tcUrl", "\x0C" + be(4, 4) + "rtmp"}}) +
                          amf_null() + nested;
  CHECK(parse(handshake() + join(chunks(0, command(cmd)))) == std::vector<std::string>{"connect live rtmp"});
}

TEST_CASE("malformed input ends in an error and the parser ignores everything after", "[streaming]") {
  const std::string hs = handshake();
  SECTION("a C0 other than version 3") {
    CHECK(has_error(parse(handshake(6)), "version 6"));
  }
  SECTION("a chunk size with the top bit set") {
    CHECK(has_error(parse(hs + set_chunk_size(0x80001000)), "top bit"));
  }
  SECTION("a command over 64 KiB, refused at its header") {
    const auto header = chunks(0, command("").claiming(64 * 1024 + 1))[0];
    CHECK(has_error(parse(hs + header), "over the limit"));
  }
  SECTION("a message over the size limit") {
    // 16 MiB itself cannot be sent: the length field has 24 bits. A lower limit shows the check.
    rtmp_client_parser::limits small;
    small.max_message_bytes = 1000;
    const auto header = chunks(0, media(9, "").claiming(1001))[0];
    CHECK(has_error(parse(hs + header, small), "over the limit"));
  }
  SECTION("more than 64 chunk streams") {
    std::string bytes = hs;
    for (std::uint32_t csid = 3; csid < 3 + 65; ++csid) bytes += join(chunks(0, media(9, "v").on(csid)));
    const auto events = parse(bytes);
    CHECK(has_error(events, "more than 64 chunk streams"));
    CHECK(events.size() == 3);  // media started, its codec ('v': 6), then the error at the 65th
  }
  SECTION("an AMF value cut short inside a complete message") {
    const std::string cut_string = amf_str("connect") + std::string("\x02\x00\x0A", 3) + "abc";  // 10 bytes promised
    CHECK(has_error(parse(hs + join(chunks(0, command(cut_string)))), "truncated"));
    CHECK(has_error(parse(hs + join(chunks(0, command(connect_cmd("live", "t").substr(0, 30))))), "truncated"));
  }
  SECTION("a new message header before the previous message ended") {
    const auto connect = chunks(0, command(connect_cmd("live", std::string(300, 't'))));
    CHECK(has_error(parse(hs + connect[0] + join(chunks(1, command(publish_cmd("K"))))), "before its message ended"));
  }
  SECTION("an AMF3 command that is not AMF0 inside") {
    CHECK(has_error(parse(hs + join(chunks(0, command("\x11\x06", 17)))), "AMF3"));
  }
  SECTION("a publish without a stream name") {
    CHECK(has_error(parse(hs + join(chunks(0, command(amf_str("publish") + amf_num(5) + amf_null())))), "stream name"));
  }
  rtmp_client_parser p;
  p.feed(hs + set_chunk_size(0x80000000));
  CHECK(p.failed());
  CHECK(p.feed(join(chunks(0, command(publish_cmd("K"))))).empty());
}

TEST_CASE("media is counted, never buffered: 10 MB of video keeps memory small", "[streaming]") {
  const std::uint32_t size = 10'000'000;
  rtmp_client_parser p;
  p.feed(handshake() + join(chunks(0, command(connect_cmd("live", "rtmp://h/live")))));
  const auto video = chunks(0, media(9, "").claiming(size));
  p.feed(video[0]);  // the header alone
  const std::string chunk = basic_header(3, 6) + std::string(128, 'v');
  std::size_t max_buffered = 0;
  std::string slice;
  for (std::uint32_t sent = 0; sent < size;) {
    slice.clear();
    const bool first = sent == 0;
    while (slice.size() < 64 * 1024 && sent < size) {
      const std::uint32_t n = std::min<std::uint32_t>(128, size - sent);
      slice += sent == 0 ? std::string(n, 'v') : chunk.substr(0, 1 + n);
      sent += n;
    }
    // The first bytes name the codec ('v': codec id 6), once; the rest is only counted.
    CHECK(lines(p.feed(slice)) == (first ? std::vector<std::string>{"video 6 -1"} : std::vector<std::string>{}));
    max_buffered = std::max(max_buffered, p.buffered_bytes());
  }
  CHECK(max_buffered < 70 * 1024);
  CHECK(p.media_bytes() == size);
  CHECK_FALSE(p.failed());
  CHECK(lines(p.feed(join(chunks(0, command(publish_cmd("K")))))) == std::vector<std::string>{"publish K live"});
}

namespace {

// An FLV video tag body: the first byte (frame type 1 = key, codec id), then `rest`.
std::string video_tag(std::uint8_t first, std::string rest) { return std::string(1, static_cast<char>(first)) + rest; }
// An H.264 sequence header: AVCPacketType 0, composition time 0, AVCDecoderConfigurationRecord.
std::string avc_sequence_header(std::uint8_t profile) {
  return video_tag(0x17, std::string("\0\0\0\0\x01", 5) + static_cast<char>(profile) + std::string("\x00\x1f\xff\xe1", 4));
}

std::vector<std::string> after_publish(const std::vector<std::string>& media_messages) {
  std::string bytes = handshake() + join(chunks(0, command(connect_cmd("live", "rtmp://h/live")))) +
                      join(chunks(0, command(publish_cmd("K"))));
  bool first = true;
  for (const auto& m : media_messages) {
    bytes += join(chunks(first ? 0 : 1, media(9, m)));
    first = false;
  }
  auto events = parse(bytes);
  return {events.begin() + 2, events.end()};  // after connect and publish
}

}  // namespace

TEST_CASE("the first video message names its codec and H.264 profile, once, however it is split", "[streaming]") {
  CHECK(after_publish({avc_sequence_header(100), avc_sequence_header(244)}) ==
        std::vector<std::string>{"media 9 @0", "video 7 100"});
  CHECK(after_publish({avc_sequence_header(244)}) == std::vector<std::string>{"media 9 @0", "video 7 244"});
  // An H.264 frame (AVCPacketType 1) first: no profile to read.
  CHECK(after_publish({video_tag(0x27, std::string("\x01\0\0\0\0\0\0\x10", 8))}) ==
        std::vector<std::string>{"media 9 @0", "video 7 -1"});
  CHECK(after_publish({video_tag(0x1C, std::string(300, 'h'))}) == std::vector<std::string>{"media 9 @0", "video 12 -1"});
  // A message shorter than the bytes looked at is reported when it ends.
  CHECK(after_publish({video_tag(0x17, "")}) == std::vector<std::string>{"media 9 @0", "video 7 -1"});
  CHECK(after_publish({""}) == std::vector<std::string>{"media 9 @0", "video 0 -1"});
  // Enhanced RTMP: the top bit, a packet type, then the FourCC.
  CHECK(after_publish({video_tag(0x90, "hvc1" + std::string(40, '\0'))}) == std::vector<std::string>{"media 9 @0", "video hvc1 -1"});
}

TEST_CASE("only 8-bit 4:2:0 H.264 plays in every browser as it is", "[streaming]") {
  for (const int profile : {-1, 66, 77, 88, 100}) {
    INFO(profile);
    CHECK(browser_playable({7, "", profile}));
  }
  for (const int profile : {110, 122, 244, 44}) {
    INFO(profile);
    CHECK_FALSE(browser_playable({7, "", profile}));
  }
  CHECK(browser_playable({0, "avc1", -1}));
  CHECK_FALSE(browser_playable({12, "", -1}));   // HEVC
  CHECK_FALSE(browser_playable({0, "hvc1", -1}));
  CHECK_FALSE(browser_playable({0, "av01", -1}));
  CHECK_FALSE(browser_playable({2, "", -1}));    // Sorenson H.263
}

#include "streaming/rtmp_responder.hpp"

#include <catch2/catch.hpp>

#include <bit>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>

using namespace cohort::streaming;

namespace {

// ---- client bytes, built by hand

std::string be(std::uint64_t v, int n) {
  std::string out;
  for (int i = n - 1; i >= 0; --i) out += static_cast<char>((v >> (8 * i)) & 0xFF);
  return out;
}

std::string amf_str(std::string_view s) { return "\x02" + be(s.size(), 2) + std::string(s); }
std::string amf_num(double d) { return std::string(1, '\0') + be(std::bit_cast<std::uint64_t>(d), 8); }
std::string amf_null() { return "\x05"; }

std::string c0_c1() {
  std::string out(1, '\x03');
  std::mt19937 rng(7);
  for (int i = 0; i < 1536; ++i) out += static_cast<char>(rng() & 0xFF);
  return out;
}
const std::string c2(1536, '\x11');  // a client's C2 echoes S1; Cohort does not check it

// One message on chunk stream 3 (fmt 0, then fmt 3 every `chunk` bytes).
std::string message(std::uint8_t type, const std::string& payload, std::size_t chunk = 128, std::uint32_t csid = 3) {
  std::string out = std::string(1, static_cast<char>(csid)) + be(0, 3) + be(payload.size(), 3) +
                    static_cast<char>(type) + std::string(4, '\0');
  for (std::size_t pos = 0; pos < payload.size(); pos += chunk) {
    if (pos > 0) out += static_cast<char>(0xC0 | csid);
    out += payload.substr(pos, chunk);
  }
  return out;
}
std::string command(const std::string& amf, std::size_t chunk = 128) { return message(20, amf, chunk); }

std::string connect_cmd(double tx = 1) {
  return command(amf_str("connect") + amf_num(tx) + "\x03" + be(3, 2) + "app" + amf_str("live") + std::string("\0\0\x09", 3));
}
std::string named_cmd(std::string_view name, double tx, std::string_view key) {
  return command(amf_str(name) + amf_num(tx) + amf_null() + amf_str(key));
}
std::string create_stream_cmd(double tx) { return command(amf_str("createStream") + amf_num(tx) + amf_null()); }
std::string publish_cmd(std::string_view key, double tx = 5) {
  return command(amf_str("publish") + amf_num(tx) + amf_null() + amf_str(key) + amf_str("live"));
}

// ---- what Cohort answered, decoded the way a client reads it

struct amf {
  char marker = 0;
  std::string text;
  double number = 0;
  std::map<std::string, std::string> fields;  // an object's string and number fields, as text
};

struct server_message {
  std::uint32_t csid = 0;
  std::uint8_t type = 0;
  std::uint32_t stream = 0;
  std::string payload;
  std::vector<amf> values() const {
    std::vector<amf> out;
    std::size_t pos = 0;
    auto u = [&](std::size_t n) {
      std::uint64_t v = 0;
      for (std::size_t i = 0; i < n; ++i) v = (v << 8) | static_cast<unsigned char>(payload.at(pos++));
      return v;
    };
    auto str = [&] {
      const auto n = u(2);
      const auto s = payload.substr(pos, n);
      pos += n;
      return s;
    };
    while (pos < payload.size()) {
      amf v;
      v.marker = payload[pos++];
      if (v.marker == 0) v.number = std::bit_cast<double>(u(8));
      else if (v.marker == 2) v.text = str();
      else if (v.marker == 3) {
        for (std::string key = str(); !key.empty(); key = str()) {
          const char m = payload[pos++];
          if (m == 2) v.fields[key] = str();
          else if (m == 0) v.fields[key] = std::to_string(std::bit_cast<double>(u(8)));
          else FAIL("unexpected AMF marker in an object");
        }
        REQUIRE(payload[pos++] == '\x09');
      } else if (v.marker != 5) {
        FAIL("unexpected AMF marker " << int(v.marker));
      }
      out.push_back(v);
    }
    return out;
  }
};

// Splits a reply (after the handshake) into messages: Cohort writes fmt 0 headers and fmt 3
// continuations every 128 bytes.
std::vector<server_message> messages(std::string_view bytes) {
  std::vector<server_message> out;
  std::size_t pos = 0;
  while (pos < bytes.size()) {
    const auto first = static_cast<unsigned char>(bytes[pos]);
    REQUIRE((first >> 6) == 0);
    REQUIRE(bytes.size() - pos >= 12);
    server_message m;
    m.csid = first & 0x3F;
    auto rd = [&](std::size_t at, std::size_t n) {
      std::uint32_t v = 0;
      for (std::size_t i = 0; i < n; ++i) v = (v << 8) | static_cast<unsigned char>(bytes[at + i]);
      return v;
    };
    const std::size_t length = rd(pos + 4, 3);
    m.type = static_cast<std::uint8_t>(bytes[pos + 7]);
    for (int i = 3; i >= 0; --i) m.stream = (m.stream << 8) | static_cast<unsigned char>(bytes[pos + 8 + i]);
    pos += 12;
    while (m.payload.size() < length) {
      if (!m.payload.empty()) {
        REQUIRE(static_cast<unsigned char>(bytes[pos]) == (0xC0 | m.csid));
        ++pos;
      }
      const auto n = std::min<std::size_t>(128, length - m.payload.size());
      REQUIRE(bytes.size() - pos >= n);
      m.payload += bytes.substr(pos, n);
      pos += n;
    }
    out.push_back(m);
  }
  return out;
}

// "_result 4" / "onStatus NetStream.Publish.Start" / "window-ack 2500000" ...: one line per message.
std::string describe(const server_message& m) {
  auto u32 = [&](std::size_t at) {
    std::uint32_t v = 0;
    for (std::size_t i = 0; i < 4; ++i) v = (v << 8) | static_cast<unsigned char>(m.payload.at(at + i));
    return v;
  };
  switch (m.type) {
    case 3: return "ack " + std::to_string(u32(0));
    case 4: return "stream-begin " + std::to_string(u32(2));
    case 5: return "window-ack " + std::to_string(u32(0));
    case 6: return "peer-bandwidth " + std::to_string(u32(0)) + " " + std::to_string(int(m.payload.at(4)));
    case 20: {
      const auto v = m.values();
      REQUIRE(v.size() >= 2);
      std::string line = v[0].text + " " + std::to_string(static_cast<int>(v[1].number));
      if (v[0].text == "onStatus") line += " " + v.at(3).fields.at("level") + " " + v.at(3).fields.at("code");
      if (v.size() == 4 && v[3].marker == 0) line += " id " + std::to_string(static_cast<int>(v[3].number));
      if (v[0].text == "_result" && v.size() == 4 && v[3].marker == 3) line += " " + v[3].fields.at("code");
      return line;
    }
    default: return "type " + std::to_string(m.type);
  }
}

std::vector<std::string> describe_all(std::string_view bytes) {
  std::vector<std::string> out;
  for (const auto& m : messages(bytes)) out.push_back(describe(m));
  return out;
}

struct fed {
  std::vector<rtmp_event> events;
  std::string reply;
};

// Feeds in random pieces of at most max_piece bytes.
fed feed(rtmp_responder& r, std::string_view bytes, std::size_t max_piece = 1 << 20, unsigned seed = 0) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<std::size_t> size(1, max_piece);
  fed out;
  for (std::size_t pos = 0; pos < bytes.size();) {
    const auto n = std::min(size(rng), bytes.size() - pos);
    for (auto& e : r.feed(bytes.substr(pos, n))) out.events.push_back(std::move(e));
    out.reply += r.take_reply();
    pos += n;
  }
  return out;
}

template <class T> int count(const std::vector<rtmp_event>& events) {
  int n = 0;
  for (const auto& e : events) n += std::holds_alternative<T>(e);
  return n;
}

std::string error_of(const std::vector<rtmp_event>& events) {
  for (const auto& e : events)
    if (const auto* err = std::get_if<rtmp_error>(&e)) return err->reason;
  return {};
}

std::string fixture(const std::string& name) {
  const char* dir = std::getenv("COHORT_SOURCE_DIR");
  const std::filesystem::path root =
      dir ? std::filesystem::path(dir) : std::filesystem::path(__FILE__).parent_path().parent_path().parent_path();
  std::ifstream in(root / "tests/streaming/fixtures" / name, std::ios::binary);
  REQUIRE(in);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

}  // namespace

TEST_CASE("the handshake: S0 S1 S2 once C0 and C1 are in, S2 echoing C1, however the bytes are split", "[streaming]") {
  const auto c01 = c0_c1();
  for (std::size_t piece : {1u, 7u, 1000u, 5000u}) {
    INFO("pieces of up to " << piece);
    rtmp_responder r(42);
    const auto first = feed(r, std::string_view(c01).substr(0, 1536), piece, piece);
    CHECK(first.reply.empty());  // C1 is one byte short
    const auto rest = feed(r, std::string_view(c01).substr(1536), piece, piece);
    REQUIRE(rest.reply.size() == 1 + 2 * 1536);
    CHECK(rest.reply[0] == '\x03');
    CHECK(rest.reply.substr(1, 8) == std::string(8, '\0'));  // time 0, and zeros: the simple handshake
    CHECK(rest.reply.substr(1 + 1536) == c01.substr(1));    // S2 = C1
    CHECK(feed(r, c2).reply.empty());
    CHECK_FALSE(r.failed());
  }
  rtmp_responder seeded_42(42), seeded_43(43);
  CHECK(feed(seeded_42, c01).reply.substr(9, 1528) != feed(seeded_43, c01).reply.substr(9, 1528));  // S1's random bytes
}

TEST_CASE("a wrong RTMP version gets no answer, only an error", "[streaming]") {
  rtmp_responder r(1);
  auto bad = c0_c1();
  bad[0] = '\x06';
  const auto out = feed(r, bad + c2);
  CHECK(out.reply.empty());
  CHECK_THAT(error_of(out.events), Catch::Contains("version"));
  CHECK(r.failed());
}

TEST_CASE("connect, releaseStream, FCPublish and createStream are answered with their transaction ids", "[streaming]") {
  rtmp_responder r(1);
  feed(r, c0_c1() + c2);
  const auto out = feed(r, connect_cmd(1) + named_cmd("releaseStream", 2, "KEY") + named_cmd("FCPublish", 3, "KEY") +
                               create_stream_cmd(4));
  CHECK(describe_all(out.reply) == std::vector<std::string>{
                                       "window-ack 2500000", "peer-bandwidth 2500000 2",
                                       "_result 1 NetConnection.Connect.Success", "_result 2", "_result 3",
                                       "_result 4 id 1"});
  const auto connect = messages(out.reply)[2].values();
  REQUIRE(connect.size() == 4);
  CHECK(connect[2].fields.at("fmsVer") == "FMS/3,0,1,123");
  CHECK(connect[3].fields.at("level") == "status");
  CHECK(count<rtmp_connect>(out.events) == 1);
  CHECK(count<rtmp_create_stream>(out.events) == 1);
  CHECK(error_of(out.events).empty());
}

TEST_CASE("publish waits for the owner: accepted, it starts; refused, the client gets an error status and nothing more",
          "[streaming]") {
  const auto setup = c0_c1() + c2 + connect_cmd() + create_stream_cmd(4);
  SECTION("accepted") {
    rtmp_responder r(1);
    feed(r, setup);
    const auto out = feed(r, publish_cmd("live_good?x=1", 5));
    CHECK(out.reply.empty());  // nothing until the key is checked
    REQUIRE(count<rtmp_publish>(out.events) == 1);
    CHECK(std::get<rtmp_publish>(out.events[0]).stream_name == "live_good?x=1");
    CHECK(std::get<rtmp_publish>(out.events[0]).transaction_id == 5);
    r.accept_publish();
    const auto answer = r.take_reply();
    CHECK(describe_all(answer) == std::vector<std::string>{"stream-begin 1", "onStatus 0 status NetStream.Publish.Start"});
    CHECK(messages(answer)[1].stream == 1);
    CHECK(r.publishing());
    // Media now flows; nothing is answered (the client asked for no acknowledgements).
    const auto media = feed(r, message(9, std::string(5000, '\x17'), 128, 6));
    CHECK(media.reply.empty());
    CHECK(count<rtmp_media_started>(media.events) == 1);
    CHECK(error_of(media.events).empty());
  }
  SECTION("refused") {
    rtmp_responder r(1);
    feed(r, setup);
    feed(r, publish_cmd("live_bad"));
    r.refuse_publish("Stream key refused.");
    CHECK(describe_all(r.take_reply()) == std::vector<std::string>{"onStatus 0 error NetStream.Publish.BadName"});
    CHECK(r.failed());
    const auto after = feed(r, named_cmd("FCPublish", 6, "x") + message(9, "\x17\x00", 128, 6));
    CHECK(after.events.empty());
    CHECK(after.reply.empty());
  }
}

TEST_CASE("out-of-order or excess commands, and media before publish, are errors", "[streaming]") {
  const auto hs = c0_c1() + c2;
  auto error_after = [&](const std::string& bytes) {
    rtmp_responder r(1);
    const auto out = feed(r, hs + bytes);
    CHECK(r.failed());
    return error_of(out.events);
  };
  CHECK_THAT(error_after(publish_cmd("k")), Catch::Contains("before connect"));
  CHECK_THAT(error_after(create_stream_cmd(2)), Catch::Contains("before connect"));
  CHECK_THAT(error_after(connect_cmd() + connect_cmd(2)), Catch::Contains("second connect"));
  CHECK_THAT(error_after(connect_cmd() + publish_cmd("a") + publish_cmd("b")), Catch::Contains("second publish"));
  CHECK_THAT(error_after(connect_cmd() + message(9, "\x17\x00", 128, 6)), Catch::Contains("media before publish"));
  std::string many = connect_cmd();
  for (int i = 0; i < rtmp_responder::max_commands; ++i) many += create_stream_cmd(2 + i);
  CHECK_THAT(error_after(many), Catch::Contains("commands before publish"));
}

TEST_CASE("with a Window Acknowledgement Size from the client, an Acknowledgement follows every window", "[streaming]") {
  rtmp_responder r(1);
  feed(r, c0_c1() + c2 + connect_cmd() + message(5, be(5000, 4), 128, 2) + create_stream_cmd(2));
  const auto before = r.bytes_received();
  CHECK(before < 5000);
  feed(r, publish_cmd("k"));
  r.accept_publish();
  r.take_reply();
  // The handshake alone (3073 bytes) plus commands; then media until the window is reached.
  const auto media = message(9, std::string(4000, '\x17'), 128, 6);
  const auto out = feed(r, media, 300, 9);
  const auto acks = describe_all(out.reply);
  REQUIRE(acks.size() == 1);
  CHECK(acks[0].rfind("ack ", 0) == 0);
  const auto acked = std::stoul(acks[0].substr(4));
  CHECK(acked >= 5000);
  CHECK(acked <= r.bytes_received());
  CHECK(describe_all(feed(r, media).reply).size() == 1);  // the next window
}

TEST_CASE("a bigger client chunk size: a connect in one 4096-byte chunk is read and answered", "[streaming]") {
  rtmp_responder r(1);
  const std::string padding = amf_str(std::string(1000, 'p'));  // an extra argument makes it span many 128-byte chunks
  const auto connect = command(amf_str("connect") + amf_num(1) + "\x03" + be(3, 2) + "app" + amf_str("live") +
                                   std::string("\0\0\x09", 3) + padding,
                               4096);
  const auto out = feed(r, c0_c1() + c2 + message(1, be(4096, 4), 128, 2) + connect, 333, 3);
  const auto replies = describe_all(out.reply.substr(1 + 2 * 1536));
  REQUIRE(replies.size() == 3);
  CHECK(replies[2] == "_result 1 NetConnection.Connect.Success");
  CHECK(r.parser().chunk_size() == 4096);
}

TEST_CASE("ffmpeg's captured publish is answered up to publish, then accepted, however it is split", "[streaming]") {
  for (const std::string name : {"ffmpeg_publish.bin", "ffmpeg_publish_chunk4096.bin"}) {
    for (unsigned seed : {0u, 1u, 2u}) {
      INFO(name << " seed " << seed);
      const auto bytes = fixture(name);
      rtmp_responder r(5);
      const auto out = feed(r, bytes, seed == 0 ? bytes.size() : 2000, seed);
      CHECK(error_of(out.events).empty());
      REQUIRE(out.reply.size() > 3073);
      CHECK(out.reply.substr(1 + 1536, 1536) == bytes.substr(1, 1536));
      // ffmpeg numbers its commands: connect 1, releaseStream 2, FCPublish 3, createStream 4, publish 5.
      CHECK(describe_all(out.reply.substr(3073)) ==
            std::vector<std::string>{"window-ack 2500000", "peer-bandwidth 2500000 2", "_result 1 NetConnection.Connect.Success",
                                     "_result 2", "_result 3", "_result 4 id 1"});
      REQUIRE(count<rtmp_publish>(out.events) == 1);
      for (const auto& e : out.events)
        if (const auto* p = std::get_if<rtmp_publish>(&e)) CHECK(p->stream_name == "SECRETKEY123");
      CHECK(count<rtmp_media_started>(out.events) == 1);  // media right behind publish is not refused while it waits
      r.accept_publish();
      CHECK(describe_all(r.take_reply()).back() == "onStatus 0 status NetStream.Publish.Start");
    }
  }
}

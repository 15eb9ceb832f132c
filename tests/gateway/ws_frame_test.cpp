#include "gateway/ws_frame.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using namespace cohort::http::ws;

namespace {

// A client frame as a browser sends it: masked, with the given FIN bit and opcode.
std::string client_frame(std::uint8_t op, std::string_view payload, bool fin = true, bool masked = true,
                         std::uint8_t rsv = 0) {
  std::string f;
  f += static_cast<char>((fin ? 0x80 : 0) | rsv | op);
  const std::uint8_t mask_bit = masked ? 0x80 : 0;
  if (payload.size() < 126) {
    f += static_cast<char>(mask_bit | payload.size());
  } else if (payload.size() <= 0xFFFF) {
    f += static_cast<char>(mask_bit | 126);
    f += static_cast<char>(payload.size() >> 8);
    f += static_cast<char>(payload.size() & 0xFF);
  } else {
    f += static_cast<char>(mask_bit | 127);
    for (int i = 7; i >= 0; --i) f += static_cast<char>((static_cast<std::uint64_t>(payload.size()) >> (8 * i)) & 0xFF);
  }
  const char mask[4] = {0x12, 0x34, 0x56, 0x78};
  if (masked) f.append(mask, 4);
  for (std::size_t i = 0; i < payload.size(); ++i) f += masked ? static_cast<char>(payload[i] ^ mask[i % 4]) : payload[i];
  return f;
}

struct recorder : frame_sink {
  std::vector<std::string> texts;
  std::vector<std::string> pings;
  int pongs = 0;
  std::vector<std::pair<std::uint16_t, std::string>> closes;
  void on_text(std::string_view m) override { texts.emplace_back(m); }
  void on_ping(std::string_view p) override { pings.emplace_back(p); }
  void on_pong() override { ++pongs; }
  void on_close(std::uint16_t code, std::string_view reason) override { closes.emplace_back(code, std::string(reason)); }
};

// Feeds `bytes` in pieces of `step` (0: all at once); returns the first nonzero close code.
std::uint16_t feed(frame_parser& p, recorder& r, std::string bytes, std::size_t step = 0) {
  if (step == 0) step = bytes.size();
  for (std::size_t at = 0; at < bytes.size(); at += step) {
    const auto n = std::min(step, bytes.size() - at);
    if (const auto rc = p.feed(bytes.data() + at, n, r)) return rc;
  }
  return 0;
}

}  // namespace

TEST_CASE("server frame headers: 7-bit, 16-bit and 64-bit lengths, FIN set, unmasked") {
  std::uint8_t h[max_header_bytes];
  REQUIRE(write_header(h, opcode::text, 125) == 2);
  CHECK(h[0] == 0x81);
  CHECK(h[1] == 125);
  REQUIRE(write_header(h, opcode::text, 126) == 4);
  CHECK(h[1] == 126);
  CHECK(h[2] == 0);
  CHECK(h[3] == 126);
  REQUIRE(write_header(h, opcode::text, 70000) == 10);
  CHECK(h[1] == 127);
  CHECK(((h[7] << 16) | (h[8] << 8) | h[9]) == 70000);
  const auto close = make_close_frame(1008, "too slow");
  CHECK(close == std::string("\x88\x0a\x03\xf0too slow", 12));
}

TEST_CASE("a close reason is cut to 123 bytes on a character boundary") {
  std::string reason(122, 'a');
  reason += "\xc3\xa9";  // é straddles the limit
  const auto f = make_close_frame(1000, reason);
  CHECK(static_cast<unsigned char>(f[1]) == 2 + 122);
}

TEST_CASE("masked text frames are unmasked, whole or cut at every byte") {
  const std::string text = "{\"type\":\"chat.send\",\"text\":\"Grüße 👋\"}";
  for (std::size_t step : {std::size_t{0}, std::size_t{1}, std::size_t{3}, std::size_t{7}}) {
    frame_parser p(16 * 1024);
    recorder r;
    REQUIRE(feed(p, r, client_frame(1, text) + client_frame(1, "second"), step) == 0);
    REQUIRE(r.texts == std::vector<std::string>{text, "second"});
  }
}

TEST_CASE("fragments are joined, with control frames between them; UTF-8 may split across fragments") {
  frame_parser p(16 * 1024);
  recorder r;
  const std::string bytes = client_frame(1, "Gr\xc3", false) + client_frame(9, "hi") +
                            client_frame(0, "\xbc\xc3\x9f", false) + client_frame(10, "") + client_frame(0, "e");
  REQUIRE(feed(p, r, bytes, 2) == 0);
  CHECK(r.texts == std::vector<std::string>{"Grüße"});
  CHECK(r.pings == std::vector<std::string>{"hi"});
  CHECK(r.pongs == 1);
}

TEST_CASE("16-bit and 64-bit lengths; exactly the limit is accepted, one byte more is 1009") {
  {
    frame_parser p(16 * 1024);
    recorder r;
    REQUIRE(feed(p, r, client_frame(1, std::string(16 * 1024, 'x')), 1000) == 0);
    REQUIRE(r.texts.size() == 1);
    CHECK(r.texts[0].size() == 16 * 1024);
  }
  {
    frame_parser p(16 * 1024);
    recorder r;
    CHECK(feed(p, r, client_frame(1, std::string(16 * 1024 + 1, 'x'))) == close_code::too_big);
    CHECK(r.texts.empty());
  }
  {
    // The limit counts the whole message, across fragments.
    frame_parser p(100);
    recorder r;
    CHECK(feed(p, r, client_frame(1, std::string(60, 'x'), false) + client_frame(0, std::string(41, 'x'))) ==
          close_code::too_big);
  }
  {
    frame_parser p(100000);
    recorder r;
    REQUIRE(feed(p, r, client_frame(1, std::string(70000, 'y'))) == 0);
    CHECK(r.texts.at(0).size() == 70000);
  }
}

TEST_CASE("invalid UTF-8 is 1007: in one frame, across fragments, truncated at the end, in a close reason") {
  const std::vector<std::string> bad = {
      client_frame(1, "abc\xff"),
      client_frame(1, "\xc0\xaf"),           // overlong '/'
      client_frame(1, "\xed\xa0\x80"),       // surrogate
      client_frame(1, "\xf4\x90\x80\x80"),   // past U+10FFFF
      client_frame(1, "ok \xe2\x82"),        // ends inside a character
      client_frame(1, "ok \xe2", false) + client_frame(0, "\x28\xa1"),
      client_frame(8, std::string("\x03\xe8\xff", 3)),
  };
  for (const auto& bytes : bad) {
    frame_parser p(16 * 1024);
    recorder r;
    CHECK(feed(p, r, bytes) == close_code::bad_payload);
    CHECK(r.texts.empty());
  }
}

TEST_CASE("protocol errors are 1002, binary is 1003") {
  const std::vector<std::pair<std::string, std::uint16_t>> cases = {
      {client_frame(1, "x", true, false), close_code::protocol_error},           // unmasked
      {client_frame(1, "x", true, true, 0x40), close_code::protocol_error},      // RSV1 without an extension
      {client_frame(0, "x"), close_code::protocol_error},                        // continuation alone
      {client_frame(1, "a", false) + client_frame(1, "b"), close_code::protocol_error},  // new message mid-way
      {client_frame(9, "x", false), close_code::protocol_error},                 // fragmented ping
      {client_frame(9, std::string(126, 'p')), close_code::protocol_error},      // control frame too long
      {client_frame(3, "x"), close_code::protocol_error},                        // reserved opcode
      {client_frame(8, "\x03"), close_code::protocol_error},                     // close of one byte
      {client_frame(8, std::string("\x03\xed", 2)), close_code::protocol_error}, // close code 1005 on the wire
      {client_frame(2, "bin"), close_code::unsupported_data},
  };
  for (const auto& [bytes, code] : cases) {
    frame_parser p(16 * 1024);
    recorder r;
    CHECK(feed(p, r, bytes, 1) == code);
    CHECK(p.done());
  }
}

TEST_CASE("a close frame ends parsing: its code and reason, or 1005 when empty") {
  {
    frame_parser p(16 * 1024);
    recorder r;
    REQUIRE(feed(p, r, client_frame(8, std::string("\x0f\xa3going", 7)) + client_frame(1, "after")) == 0);
    REQUIRE(r.closes.size() == 1);
    CHECK(r.closes[0].first == 4003);
    CHECK(r.closes[0].second == "going");
    CHECK(r.texts.empty());
    CHECK(p.done());
  }
  {
    frame_parser p(16 * 1024);
    recorder r;
    REQUIRE(feed(p, r, client_frame(8, "")) == 0);
    CHECK(r.closes.at(0).first == close_code::no_status);
  }
}

TEST_CASE("utf8_checker accepts valid text cut anywhere") {
  const std::string s = "aé€𝄞z";
  for (std::size_t cut = 0; cut <= s.size(); ++cut) {
    utf8_checker c;
    REQUIRE(c.feed(std::string_view(s).substr(0, cut)));
    REQUIRE(c.feed(std::string_view(s).substr(cut)));
    CHECK(c.complete());
  }
}

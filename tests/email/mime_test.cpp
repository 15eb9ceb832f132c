#include "email/mime.hpp"

#include "email/encoding.hpp"
#include "mime_reader.hpp"

#include <catch2/catch.hpp>

#include <string>

namespace {

using namespace cohort::email;
using namespace cohort::email::testing;

constexpr std::int64_t t0 = 1768471200;  // Thu 2026-01-15T10:00:00Z

mail_message confirmation() {
  mail_message m;
  m.from = {"Cohort", "team@cohort.example.org"};
  m.to = {"Maya", "maya@example.org"};
  m.subject = "You're registered: Infant massage";
  m.text_body = "Hi Maya,\n\nsee you there.\n";
  m.html_body = "<p>Hi Maya,</p><p>see you there.</p>\n";
  m.message_id = make_message_id("confirm-7-1768471200", "cohort.example.org");
  m.date = t0;
  m.headers = unsubscribe_headers("https://cohort.example.org/unsubscribe?t=abc");
  return m;
}

std::string calendar_bytes() {
  return "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nMETHOD:REQUEST\r\nSUMMARY:Grüße\r\nEND:VCALENDAR\r\n";
}

}  // namespace

TEST_CASE("render_mime writes the RFC 5322 headers once each", "[email][mime]") {
  const auto msg = parse_entity(render_mime(confirmation()));
  CHECK(msg.header("Date") == "Thu, 15 Jan 2026 10:00:00 +0000");
  CHECK(msg.header("From") == "\"Cohort\" <team@cohort.example.org>");
  CHECK(msg.header("To") == "\"Maya\" <maya@example.org>");
  CHECK(msg.header("Subject") == "You're registered: Infant massage");
  CHECK(msg.header("Message-ID") == "<confirm-7-1768471200@cohort.example.org>");
  CHECK(msg.header("MIME-Version") == "1.0");
  CHECK(msg.header("List-Unsubscribe") == "<https://cohort.example.org/unsubscribe?t=abc>");
  CHECK(msg.header("List-Unsubscribe-Post") == "List-Unsubscribe=One-Click");
  for (const char* name : {"Date", "From", "To", "Subject", "Message-ID", "MIME-Version", "Content-Type"}) {
    INFO(name);
    CHECK(msg.count(name) == 1);
  }
  for (const auto& line : msg.raw_header_lines) CHECK(line.size() <= 78);
}

TEST_CASE("render_mime nests text and html alternatives and base64 attachments in multipart/mixed", "[email][mime]") {
  auto m = confirmation();
  m.text_body = "Grüße, Maya!\nA line with = sign and trailing space \n" + std::string(200, 'x') + "\n.\n";
  m.html_body = "<p>Grüße, <b>Maya</b>!</p>";
  std::string binary;
  for (int i = 0; i < 300; ++i) binary += static_cast<char>(i % 256);
  m.attachments.push_back({"invite.ics", "text/calendar; method=REQUEST; charset=UTF-8", calendar_bytes()});
  m.attachments.push_back({"bytes.bin", "application/octet-stream", binary});

  const auto msg = parse_entity(render_mime(m));
  const auto type = msg.header("Content-Type").value_or("");
  REQUIRE(type.rfind("multipart/mixed;", 0) == 0);
  const auto mixed = split_multipart(msg.body, boundary_of(type));
  REQUIRE(mixed.size() == 3);

  const auto alt_entity = parse_entity(mixed[0]);
  const auto alt_type = alt_entity.header("Content-Type").value_or("");
  REQUIRE(alt_type.rfind("multipart/alternative;", 0) == 0);
  CHECK(boundary_of(alt_type) != boundary_of(type));
  const auto alternatives = split_multipart(alt_entity.body, boundary_of(alt_type));
  REQUIRE(alternatives.size() == 2);

  const auto text = parse_entity(alternatives[0]);
  CHECK(text.header("Content-Type") == "text/plain; charset=UTF-8");
  CHECK(text.header("Content-Transfer-Encoding") == "quoted-printable");
  for (std::size_t pos = 0, end; (end = text.body.find("\r\n", pos)) != std::string::npos; pos = end + 2)
    CHECK(end - pos <= 76);
  // QP turns LF into CRLF; otherwise the text comes back byte for byte.
  CHECK(quoted_printable_decode(text.body) ==
        "Grüße, Maya!\r\nA line with = sign and trailing space \r\n" + std::string(200, 'x') + "\r\n.\r\n");

  const auto html = parse_entity(alternatives[1]);
  CHECK(html.header("Content-Type") == "text/html; charset=UTF-8");
  CHECK(quoted_printable_decode(html.body) == m.html_body);

  const auto ics = parse_entity(mixed[1]);
  CHECK(ics.header("Content-Type") == "text/calendar; method=REQUEST; charset=UTF-8");
  CHECK(ics.header("Content-Disposition") == "attachment; filename=\"invite.ics\"");
  CHECK(ics.header("Content-Transfer-Encoding") == "base64");
  CHECK(base64_decode(ics.body) == calendar_bytes());

  const auto bin = parse_entity(mixed[2]);
  CHECK(base64_decode(bin.body) == binary);
  std::size_t pos = 0;
  while (true) {
    const auto end = bin.body.find("\r\n", pos);
    const auto len = (end == std::string::npos ? bin.body.size() : end) - pos;
    CHECK(len <= 76);
    if (end == std::string::npos) break;
    if (bin.body.find("\r\n", end + 2) != std::string::npos) CHECK(len == 76);  // full lines but the last
    pos = end + 2;
  }
}

TEST_CASE("the boundaries cannot occur in encoded content", "[email][mime]") {
  auto m = confirmation();
  m.text_body = "--=_cohort_mixed_ fake delimiter\n=_ and =?UTF-8?B?x?=\n";
  const auto raw = render_mime(m);
  const auto msg = parse_entity(raw);
  const auto boundary = boundary_of(msg.header("Content-Type").value_or(""));
  CHECK(boundary.rfind("=_", 0) == 0);
  // Delimiters only: one opening and one closing line for the mixed part.
  std::size_t n = 0;
  for (std::size_t pos = 0; (pos = raw.find("--" + boundary, pos)) != std::string::npos; pos += boundary.size()) ++n;
  CHECK(n == 2);
  const auto mixed = split_multipart(msg.body, boundary);
  REQUIRE(mixed.size() == 1);
}

TEST_CASE("a message without html has a single text/plain part", "[email][mime]") {
  auto m = confirmation();
  m.html_body.clear();
  const auto msg = parse_entity(render_mime(m));
  const auto parts = split_multipart(msg.body, boundary_of(msg.header("Content-Type").value_or("")));
  REQUIRE(parts.size() == 1);
  CHECK(parse_entity(parts[0]).header("Content-Type") == "text/plain; charset=UTF-8");
}

TEST_CASE("non-ASCII subjects and names become RFC 2047 encoded-words", "[email][mime]") {
  auto m = confirmation();
  m.subject = "Grüße aus Köln — Säuglingsmassage unterstützt Ihre pädiatrischen Therapieziele 👶";
  m.from.name = "Zoë Müller";
  const auto msg = parse_entity(render_mime(m));
  const auto subject = msg.header("Subject").value_or("");
  CHECK(subject.rfind("=?UTF-8?B?", 0) == 0);
  CHECK(is_ascii(subject));
  CHECK(decode_encoded_words(subject) == m.subject);
  const auto from = msg.header("From").value_or("");
  CHECK(decode_encoded_words(from) == "Zoë Müller <team@cohort.example.org>");
  for (const auto& line : msg.raw_header_lines) CHECK(line.size() <= 78);
  // Every encoded-word decodes on its own: no UTF-8 sequence is split between two words.
  for (std::size_t pos = 0; (pos = subject.find("=?UTF-8?B?", pos)) != std::string::npos;) {
    const auto end = subject.find("?=", pos + 10);
    const auto word = base64_decode(subject.substr(pos + 10, end - pos - 10));
    CHECK(word.size() <= 39);
    CHECK((static_cast<unsigned char>(word.front()) & 0xC0) != 0x80);
    CHECK(subject.substr(pos, end + 2 - pos).size() <= 75);
    pos = end + 2;
  }
}

TEST_CASE("long ASCII subjects fold at spaces and unfold to the original", "[email][mime]") {
  auto m = confirmation();
  m.subject = "Level Up Your Skillset: 5 Ways Infant Massage Supports Your Pediatric Therapy Goals, session 3 of 5";
  const auto msg = parse_entity(render_mime(m));
  CHECK(msg.header("Subject") == m.subject);
  for (const auto& line : msg.raw_header_lines) CHECK(line.size() <= 78);
}

TEST_CASE("header injection: CR/LF in a name, subject or header value never starts a header", "[email][mime][security]") {
  auto m = confirmation();
  m.subject = "Hello\r\nBcc: x@y.example\r\n\r\nbody";
  m.to.name = "Maya\r\nBcc: x@y.example";
  m.from.name = "Team\nCc: z@y.example";
  m.headers.push_back({"Reply-To", "team@cohort.example.org\r\nBcc: x@y.example"});
  m.attachments.push_back({"a\r\nBcc: x@y.example.ics", "text/calendar\r\nBcc: x@y.example", "x"});
  const auto raw = render_mime(m);
  const auto msg = parse_entity(raw);
  CHECK(msg.count("Bcc") == 0);
  CHECK(msg.count("Cc") == 0);
  CHECK(raw.find("\r\nBcc:") == std::string::npos);
  CHECK(raw.find("\r\nCc:") == std::string::npos);
  CHECK(raw.find("\nBcc:") == std::string::npos);
  // The text survives on its own line, as a harmless part of the value.
  CHECK(msg.header("Subject") == "Hello  Bcc: x@y.example    body");
  CHECK(msg.header("To") == "\"Maya  Bcc: x@y.example\" <maya@example.org>");
  // No bare CR or LF anywhere in the headers.
  const auto head = raw.substr(0, raw.find("\r\n\r\n"));
  for (std::size_t i = 0; i < head.size(); ++i) {
    if (head[i] == '\n') CHECK(head[i - 1] == '\r');
    if (head[i] == '\r') CHECK(head[i + 1] == '\n');
  }
  for (const auto& part : split_multipart(msg.body, boundary_of(msg.header("Content-Type").value_or("")))) {
    const auto e = parse_entity(part);
    CHECK(e.count("Bcc") == 0);
  }
}

TEST_CASE("a quote or backslash in a display name stays inside the quoted string", "[email][mime][security]") {
  auto m = confirmation();
  m.to.name = "Eve\" <evil@example.org>, \"x\\";
  const auto msg = parse_entity(render_mime(m));
  CHECK(msg.header("To") == "\"Eve\\\" <evil@example.org>, \\\"x\\\\\" <maya@example.org>");
}

TEST_CASE("addresses are validated", "[email][mime][security]") {
  CHECK(is_valid_address("maya@example.org"));
  CHECK(is_valid_address("first.last+tag@sub.example.org"));
  for (const char* bad : {"", "maya", "@example.org", "maya@", "ma ya@example.org", "maya@example.org\r\nBcc: x@y",
                          "maya@example.org\n", "<maya@example.org>", "maya@exa>mple.org", "a@b@c", "maya,x@example.org",
                          "\"maya\"@example.org", "maya@example.org;x", "mäya@example.org"}) {
    INFO(bad);
    CHECK_FALSE(is_valid_address(bad));
  }
  auto m = confirmation();
  m.to.address = "maya@example.org\r\nBcc: x@y.example";
  CHECK_THROWS_AS(render_mime(m), message_error);
  m = confirmation();
  m.from.address = "not an address";
  CHECK_THROWS_AS(render_mime(m), message_error);
}

TEST_CASE("extra headers: names are checked and the generated ones cannot be overridden", "[email][mime][security]") {
  auto m = confirmation();
  m.headers.push_back({"Bcc", "x@y.example"});
  CHECK_THROWS_AS(render_mime(m), message_error);
  m = confirmation();
  m.headers.push_back({"X-Evil\r\nBcc", "x@y.example"});
  CHECK_THROWS_AS(render_mime(m), message_error);
  m = confirmation();
  m.headers.push_back({"content-type", "text/plain"});
  CHECK_THROWS_AS(render_mime(m), message_error);
  m = confirmation();
  m.headers.push_back({"X-Campaign", "wöche"});
  CHECK_THROWS_AS(render_mime(m), message_error);
  CHECK_THROWS_AS(unsubscribe_headers("https://x.example/u\r\nBcc: x@y"), message_error);
  CHECK_THROWS_AS(unsubscribe_headers("https://x.example/u>, <mailto:x@y"), message_error);
}

TEST_CASE("make_message_id is a valid msg-id from any input", "[email][mime]") {
  CHECK(make_message_id("confirm-7", "cohort.example.org") == "<confirm-7@cohort.example.org>");
  CHECK(make_message_id("a b<c>@d\r\n", "host:8080") == "<a-b-c--d--@host-8080>");
  auto m = confirmation();
  m.message_id = make_message_id("reminder:7:3:24h", "127.0.0.1");
  CHECK_NOTHROW(render_mime(m));
  m.message_id = "<no-at-sign>";
  CHECK_THROWS_AS(render_mime(m), message_error);
  m.message_id = "<a@b>\r\nBcc: x@y";
  CHECK_THROWS_AS(render_mime(m), message_error);
}

TEST_CASE("non-ASCII attachment names use RFC 2231", "[email][mime]") {
  auto m = confirmation();
  m.attachments.push_back({"../Übung 1.pdf", "application/pdf", "%PDF"});
  const auto msg = parse_entity(render_mime(m));
  const auto parts = split_multipart(msg.body, boundary_of(msg.header("Content-Type").value_or("")));
  REQUIRE(parts.size() == 2);
  CHECK(parse_entity(parts[1]).header("Content-Disposition") == "attachment; filename*=UTF-8''..%C3%9Cbung%201.pdf");
}

TEST_CASE("rfc5322_date names the weekday and month in English, UTC", "[email][mime]") {
  CHECK(rfc5322_date(0) == "Thu, 01 Jan 1970 00:00:00 +0000");
  CHECK(rfc5322_date(951782400 + 3661) == "Tue, 29 Feb 2000 01:01:01 +0000");
}

TEST_CASE("quoted-printable keeps lines at 76 and escapes what it must", "[email][mime]") {
  CHECK(quoted_printable_encode("a=b") == "a=3Db");
  CHECK(quoted_printable_encode("end \nnext\t") == "end=20\r\nnext=09");
  CHECK(quoted_printable_encode(".\n..") == "=2E\r\n=2E.");
  CHECK(quoted_printable_encode("é") == "=C3=A9");
  const auto long_line = quoted_printable_encode(std::string(100, 'a') + std::string(30, '='));
  for (std::size_t pos = 0, end; pos < long_line.size(); pos = end + 2) {
    end = long_line.find("\r\n", pos);
    if (end == std::string::npos) end = long_line.size();
    CHECK(end - pos <= 76);
  }
  CHECK(quoted_printable_decode(long_line) == std::string(100, 'a') + std::string(30, '='));
}

TEST_CASE("quoted-printable: a lone CR does not end the line, so the line before it still fits 76", "[email][mime]") {
  // Found by tests/fuzz/fuzz_mime: the unit before a lone CR was given the 76th column, and the
  // =0D after it then needed a soft break, making a 77-character line.
  const std::string text = "a" + std::string(25, '\xBD') + "\r" + "x";
  const auto qp = quoted_printable_encode(text);
  for (std::size_t pos = 0, end; pos < qp.size(); pos = end + 2) {
    end = qp.find("\r\n", pos);
    if (end == std::string::npos) end = qp.size();
    CHECK(end - pos <= 76);
  }
  CHECK(quoted_printable_decode(qp) == text);
}

#include "email/ics.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <vector>

namespace {

using namespace cohort::email;

constexpr std::int64_t t0 = 1768471200;  // 2026-01-15T10:00:00Z

// The physical lines (CRLF-terminated) of a rendered calendar.
std::vector<std::string> physical_lines(const std::string& ics) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (pos < ics.size()) {
    const auto end = ics.find("\r\n", pos);
    REQUIRE(end != std::string::npos);  // every line ends in CRLF
    out.push_back(ics.substr(pos, end - pos));
    pos = end + 2;
  }
  return out;
}

// Unfolded content lines (RFC 5545 3.1).
std::vector<std::string> content_lines(const std::string& ics) {
  std::vector<std::string> out;
  for (const auto& l : physical_lines(ics)) {
    if (!l.empty() && l[0] == ' ')
      out.back() += l.substr(1);
    else
      out.push_back(l);
  }
  return out;
}

bool has_line(const std::vector<std::string>& lines, const std::string& wanted) {
  for (const auto& l : lines)
    if (l == wanted) return true;
  return false;
}

bool valid_utf8(const std::string& s) {
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    const std::size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    for (std::size_t k = 1; k < n; ++k)
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    i += n;
  }
  return true;
}

ics_calendar two_sessions() {
  ics_calendar cal;
  cal.stamp = t0 - 86400;
  cal.organizer_name = "Cohort Team";
  cal.organizer_email = "team@cohort.example.org";
  cal.attendee_name = "Maya O'Brien";
  cal.attendee_email = "maya@example.org";
  cal.events.push_back({session_uid(12, 3, "cohort.example.org"), 0, t0, t0 + 3600, "Infant massage, session 1",
                        "Bring a towel", "https://cohort.example.org/join/abc"});
  cal.events.push_back({session_uid(12, 4, "cohort.example.org"), 0, t0 + 7 * 86400, t0 + 7 * 86400 + 5400,
                        "Infant massage, session 2", "", ""});
  return cal;
}

}  // namespace

TEST_CASE("render_ics writes a VCALENDAR with one VEVENT per session, field by field", "[email][ics]") {
  const auto ics = render_ics(two_sessions());
  const auto lines = content_lines(ics);
  REQUIRE(lines.size() >= 2);
  CHECK(lines.front() == "BEGIN:VCALENDAR");
  CHECK(lines.back() == "END:VCALENDAR");
  CHECK(has_line(lines, "PRODID:-//Cohort//Cohort webinars//EN"));
  CHECK(has_line(lines, "VERSION:2.0"));
  CHECK(has_line(lines, "CALSCALE:GREGORIAN"));
  CHECK(has_line(lines, "METHOD:REQUEST"));
  CHECK(std::count(lines.begin(), lines.end(), "BEGIN:VEVENT") == 2);
  CHECK(std::count(lines.begin(), lines.end(), "END:VEVENT") == 2);
  CHECK(has_line(lines, "UID:cohort-w12-s3@cohort.example.org"));
  CHECK(has_line(lines, "UID:cohort-w12-s4@cohort.example.org"));
  CHECK(std::count(lines.begin(), lines.end(), "SEQUENCE:0") == 2);
  CHECK(std::count(lines.begin(), lines.end(), "DTSTAMP:20260114T100000Z") == 2);
  CHECK(has_line(lines, "DTSTART:20260115T100000Z"));
  CHECK(has_line(lines, "DTEND:20260115T110000Z"));
  CHECK(has_line(lines, "DTSTART:20260122T100000Z"));
  CHECK(has_line(lines, "DTEND:20260122T113000Z"));
  CHECK(has_line(lines, "SUMMARY:Infant massage\\, session 1"));
  CHECK(has_line(lines, "DESCRIPTION:Bring a towel"));
  CHECK(has_line(lines, "URL:https://cohort.example.org/join/abc"));
  CHECK(std::count(lines.begin(), lines.end(), "ORGANIZER;CN=\"Cohort Team\":mailto:team@cohort.example.org") == 2);
  CHECK(std::count(lines.begin(), lines.end(),
                   "ATTENDEE;CN=\"Maya O'Brien\";ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=FALSE:mailto:"
                   "maya@example.org") == 2);
  CHECK(std::count(lines.begin(), lines.end(), "STATUS:CONFIRMED") == 2);
  // The second session has neither description nor URL.
  CHECK(std::count_if(lines.begin(), lines.end(), [](const std::string& l) { return l.rfind("URL:", 0) == 0; }) == 1);
}

TEST_CASE("every ics line ends in CRLF, with no bare LF or CR anywhere", "[email][ics]") {
  auto cal = two_sessions();
  cal.events[0].description = "line one\nline two\r\nline three";
  const auto ics = render_ics(cal);
  REQUIRE(ics.size() >= 2);
  CHECK(ics.substr(ics.size() - 2) == "\r\n");
  for (std::size_t i = 0; i < ics.size(); ++i) {
    if (ics[i] == '\n') CHECK((i > 0 && ics[i - 1] == '\r'));
    if (ics[i] == '\r') CHECK((i + 1 < ics.size() && ics[i + 1] == '\n'));
  }
  CHECK(has_line(content_lines(ics), "DESCRIPTION:line one\\nline two\\nline three"));
}

TEST_CASE("ics TEXT escaping: backslash, semicolon, comma, newlines, controls dropped", "[email][ics]") {
  CHECK(ics_escape_text("a\\b;c,d") == "a\\\\b\\;c\\,d");
  CHECK(ics_escape_text("one\ntwo") == "one\\ntwo");
  CHECK(ics_escape_text("one\r\ntwo") == "one\\ntwo");
  CHECK(ics_escape_text("tab\there") == "tab\there");
  CHECK(ics_escape_text(std::string("nul\0bell\a", 9)) == "nulbell");
  CHECK(ics_escape_text("Grüße: 5 Wege") == "Grüße: 5 Wege");  // ':' needs no escape in TEXT
}

TEST_CASE("ics lines fold at 75 octets and never split a UTF-8 sequence", "[email][ics]") {
  SECTION("ASCII: exactly 75, then 74 after the leading space") {
    const std::string value(200, 'x');
    const auto folded = ics_fold_line("DESCRIPTION:" + value);
    const auto lines = physical_lines(folded);
    REQUIRE(lines.size() == 3);
    CHECK(lines[0].size() == 75);
    CHECK(lines[1].size() == 75);
    CHECK(lines[1][0] == ' ');
    CHECK(lines[2][0] == ' ');
    CHECK(content_lines(folded).at(0) == "DESCRIPTION:" + value);
  }
  SECTION("a line of exactly 75 octets is not folded") {
    const auto line = "SUMMARY:" + std::string(75 - 8, 'y');
    CHECK(ics_fold_line(line) == line + "\r\n");
  }
  SECTION("multibyte characters at every alignment") {
    for (const std::string ch : {"é", "€", "😀"}) {
      for (int prefix = 0; prefix < 4; ++prefix) {
        std::string value(static_cast<std::size_t>(prefix), 'a');
        for (int i = 0; i < 60; ++i) value += ch;
        const auto content = "SUMMARY:" + value;
        const auto folded = ics_fold_line(content);
        INFO(ch << " after " << prefix << " ASCII bytes");
        for (const auto& l : physical_lines(folded)) {
          CHECK(l.size() <= 75);
          // Each physical line is valid UTF-8 on its own: no sequence is split.
          CHECK(valid_utf8(l));
        }
        CHECK(content_lines(folded).at(0) == content);
      }
    }
  }
  SECTION("a long summary in a rendered calendar unfolds to the escaped text") {
    auto cal = two_sessions();
    cal.events[0].summary = "Level Up Your Skillset: 5 Ways Infant Massage Supports Your Pediatric Therapy Goals — Woche 1, Übung";
    const auto ics = render_ics(cal);
    for (const auto& l : physical_lines(ics)) CHECK(l.size() <= 75);
    CHECK(has_line(content_lines(ics), "SUMMARY:" + ics_escape_text(cal.events[0].summary)));
  }
}

TEST_CASE("a moved session keeps its UID with a higher SEQUENCE, a cancelled one is METHOD:CANCEL", "[email][ics]") {
  auto cal = two_sessions();
  cal.events.resize(1);
  const auto original = content_lines(render_ics(cal));

  cal.events[0].sequence = 1;
  cal.events[0].starts_at += 3600;
  cal.events[0].ends_at += 3600;
  const auto moved = content_lines(render_ics(cal));
  CHECK(has_line(moved, "UID:cohort-w12-s3@cohort.example.org"));
  CHECK(has_line(original, "SEQUENCE:0"));
  CHECK(has_line(moved, "SEQUENCE:1"));
  CHECK(has_line(moved, "DTSTART:20260115T110000Z"));
  CHECK(has_line(moved, "METHOD:REQUEST"));

  cal.method = ics_method::cancel;
  cal.events[0].sequence = 2;
  const auto cancelled = content_lines(render_ics(cal));
  CHECK(has_line(cancelled, "METHOD:CANCEL"));
  CHECK(!has_line(cancelled, "METHOD:REQUEST"));
  CHECK(has_line(cancelled, "UID:cohort-w12-s3@cohort.example.org"));
  CHECK(has_line(cancelled, "SEQUENCE:2"));
  CHECK(has_line(cancelled, "STATUS:CANCELLED"));
  CHECK(!has_line(cancelled, "STATUS:CONFIRMED"));
}

TEST_CASE("ics names and addresses cannot break out of their property", "[email][ics]") {
  auto cal = two_sessions();
  cal.attendee_name = "Eve\r\nATTENDEE:mailto:evil@example.org \"quoted\"";
  cal.attendee_email = "eve@example.org\r\nX-EVIL:1";
  cal.events[0].url = "https://x.example/\r\nX-EVIL:2";
  const auto lines = content_lines(render_ics(cal));
  for (const auto& l : lines) {
    CHECK(l.rfind("ATTENDEE:", 0) != 0);
    CHECK(l.rfind("X-EVIL", 0) != 0);
  }
  CHECK(has_line(lines, "ATTENDEE;CN=\"EveATTENDEE:mailto:evil@example.org quoted\";ROLE=REQ-PARTICIPANT;"
                        "PARTSTAT=NEEDS-ACTION;RSVP=FALSE:mailto:eve@example.orgX-EVIL:1"));
}

TEST_CASE("the attachment's content type carries the calendar's method", "[email][ics]") {
  CHECK(ics_content_type(ics_method::request) == "text/calendar; method=REQUEST; charset=UTF-8");
  CHECK(ics_content_type(ics_method::cancel) == "text/calendar; method=CANCEL; charset=UTF-8");
}

TEST_CASE("ics_utc formats UTC as YYYYMMDDTHHMMSSZ", "[email][ics]") {
  CHECK(ics_utc(0) == "19700101T000000Z");
  CHECK(ics_utc(t0 + 59) == "20260115T100059Z");
  CHECK(ics_utc(951782400) == "20000229T000000Z");  // a leap day
}

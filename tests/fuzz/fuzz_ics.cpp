// The iCalendar writer of the invitations (email/ics): the input, split at NUL bytes, is the
// summary, description, url, uid, prodid, organizer name and email, attendee name and email of a
// calendar with two events (at most 8 KiB each; titles and descriptions are far smaller), and its
// first byte picks REQUEST or CANCEL. Invariants:
// - every physical line ends in CRLF, holds at most 75 octets, and there is no other CR or LF;
//   a continuation line starts with one space and never splits a UTF-8 character;
// - unfolded, the content lines are exactly the properties render_ics writes, in its order
//   (no text can start a property of its own: no "ATTENDEE:", no "END:VEVENT");
// - SUMMARY and DESCRIPTION are TEXT: no unescaped ',' or ';', only the escapes \\ \; \, \n, and
//   unescaping gives the input back (line breaks as LF, other control characters but TAB dropped);
// - URL, UID, PRODID and the mailto: addresses are the input without control characters, and a
//   CN parameter is one quoted string without DQUOTE.
// fuzz-libs: cohort_email
#include "email/ics.hpp"

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

namespace {

namespace email = cohort::email;

constexpr std::size_t max_part_bytes = 8192;

void check(bool ok) {
  if (!ok) std::abort();
}

bool control(char c) { return static_cast<unsigned char>(c) < 32 || c == 127; }

std::string without_controls(std::string_view v) {
  std::string out;
  for (const char c : v)
    if (!control(c)) out += c;
  return out;
}

// What TEXT unescaping must give back for `in`.
std::string text_expected(std::string_view in) {
  std::string out;
  for (std::size_t i = 0; i < in.size(); ++i) {
    const char c = in[i];
    if (c == '\r') {
      if (i + 1 < in.size() && in[i + 1] == '\n') ++i;
      out += '\n';
    } else if (c == '\n' || c == '\t' || !control(c)) {
      out += c;
    }
  }
  return out;
}

// RFC 5545 3.3.11; aborts on an unescaped separator or an unknown escape.
std::string text_unescape(std::string_view v) {
  std::string out;
  for (std::size_t i = 0; i < v.size(); ++i) {
    const char c = v[i];
    check(c != ',' && c != ';');
    if (c != '\\') {
      out += c;
      continue;
    }
    check(i + 1 < v.size());
    const char e = v[++i];
    if (e == 'n' || e == 'N') out += '\n';
    else if (e == '\\' || e == ';' || e == ',') out += e;
    else std::abort();
  }
  return out;
}

bool valid_utf8(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    for (std::size_t k = 1; k < n; ++k)
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    i += n;
  }
  return true;
}

// Physical lines → content lines, checking the folding.
std::vector<std::string> unfold(const std::string& ics) {
  std::vector<std::string> physical;
  std::size_t pos = 0;
  while (pos < ics.size()) {
    const auto crlf = ics.find("\r\n", pos);
    check(crlf != std::string::npos);  // the calendar ends with CRLF
    physical.push_back(ics.substr(pos, crlf - pos));
    pos = crlf + 2;
  }
  std::vector<std::string> lines;
  std::vector<std::vector<std::string>> pieces;
  for (const auto& p : physical) {
    check(p.size() <= 75);
    check(p.find('\r') == std::string::npos && p.find('\n') == std::string::npos);
    if (!p.empty() && p.front() == ' ') {
      check(!lines.empty() && p.size() > 1);
      lines.back() += p.substr(1);
      pieces.back().push_back(p.substr(1));
    } else {
      check(!p.empty());
      lines.push_back(p);
      pieces.push_back({p});
    }
  }
  // A fold never cuts a character: when the content line is UTF-8, so is every piece of it.
  for (std::size_t i = 0; i < lines.size(); ++i)
    if (valid_utf8(lines[i]))
      for (const auto& piece : pieces[i]) check(valid_utf8(piece));
  return lines;
}

// The value of a content line that must start with `head` (name and parameters, then ':').
std::string value_of(const std::string& line, std::string_view head) {
  check(line.compare(0, head.size(), head) == 0 && line.size() > head.size() && line[head.size()] == ':');
  return line.substr(head.size() + 1);
}

// A person line: NAME[;CN="..."]<params>:mailto:<address>.
void check_person(const std::string& line, std::string_view property, std::string_view params, const std::string& name,
                  const std::string& address) {
  std::string head(property);
  if (!name.empty()) {
    check(line.compare(0, head.size() + 5, head + ";CN=\"") == 0);
    const auto close = line.find('"', head.size() + 5);
    check(close != std::string::npos);
    std::string cn = without_controls(name);
    std::string expect;
    for (const char c : cn)
      if (c != '"') expect += c;
    check(line.substr(head.size() + 5, close - head.size() - 5) == expect);
    head = line.substr(0, close + 1);
  }
  head += params;
  check(value_of(line, head) == "mailto:" + without_controls(address));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const bool cancel = data[0] & 1;
  const std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
  std::vector<std::string> parts;
  std::size_t pos = 0;
  while (parts.size() < 9) {
    const auto end = input.find('\0', pos);
    parts.emplace_back(input.substr(pos, std::min(end == std::string_view::npos ? input.size() - pos : end - pos, max_part_bytes)));
    if (end == std::string_view::npos) break;
    pos = end + 1;
  }
  parts.resize(9);

  email::ics_calendar cal;
  cal.method = cancel ? email::ics_method::cancel : email::ics_method::request;
  if (!parts[4].empty()) cal.prodid = parts[4];
  cal.stamp = 1768471200;  // 2026-01-15T10:00:00Z
  cal.organizer_name = parts[5];
  cal.organizer_email = parts[6];
  cal.attendee_name = parts[7];
  cal.attendee_email = parts[8];
  for (int i = 0; i < 2; ++i) {
    email::ics_event ev;
    ev.uid = i == 0 ? parts[3] : email::session_uid(12, 3, parts[3]);
    ev.sequence = i;
    ev.starts_at = 1768471200 + 86400 * i;
    ev.ends_at = ev.starts_at + 3600;
    ev.summary = parts[0];
    ev.description = parts[1];
    ev.url = parts[2];
    cal.events.push_back(std::move(ev));
  }

  const auto lines = unfold(email::render_ics(cal));
  std::size_t n = 0;
  auto next = [&]() -> const std::string& {
    check(n < lines.size());
    return lines[n++];
  };
  check(next() == "BEGIN:VCALENDAR");
  check(value_of(next(), "PRODID") == without_controls(cal.prodid));
  check(next() == "VERSION:2.0");
  check(next() == "CALSCALE:GREGORIAN");
  check(next() == (cancel ? "METHOD:CANCEL" : "METHOD:REQUEST"));
  for (const auto& ev : cal.events) {
    check(next() == "BEGIN:VEVENT");
    check(value_of(next(), "UID") == without_controls(ev.uid));
    check(value_of(next(), "SEQUENCE") == std::to_string(ev.sequence));
    check(value_of(next(), "DTSTAMP") == email::ics_utc(cal.stamp));
    check(value_of(next(), "DTSTART") == email::ics_utc(ev.starts_at));
    check(value_of(next(), "DTEND") == email::ics_utc(ev.ends_at));
    check(text_unescape(value_of(next(), "SUMMARY")) == text_expected(ev.summary));
    if (!ev.description.empty()) check(text_unescape(value_of(next(), "DESCRIPTION")) == text_expected(ev.description));
    if (!ev.url.empty()) check(value_of(next(), "URL") == without_controls(ev.url));
    if (!cal.organizer_email.empty()) check_person(next(), "ORGANIZER", "", cal.organizer_name, cal.organizer_email);
    if (!cal.attendee_email.empty())
      check_person(next(), "ATTENDEE", ";ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=FALSE", cal.attendee_name,
                   cal.attendee_email);
    check(next() == (cancel ? "STATUS:CANCELLED" : "STATUS:CONFIRMED"));
    check(next() == "TRANSP:OPAQUE");
    check(next() == "END:VEVENT");
  }
  check(next() == "END:VCALENDAR");
  check(n == lines.size());
  return 0;
}

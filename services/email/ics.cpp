#include "email/ics.hpp"

#include "email/encoding.hpp"

#include <cstdio>

namespace cohort::email {
namespace {

constexpr std::size_t max_line_octets = 75;

// For values that are not TEXT (URIs, addresses): nothing may end the content line early.
std::string strip_controls(std::string_view value) {
  std::string out;
  for (const char c : value)
    if (static_cast<unsigned char>(c) >= 32 && c != 127) out += c;
  return out;
}

// A CN parameter: always quoted, and a quoted parameter value cannot contain DQUOTE.
std::string cn_param(std::string_view name) {
  std::string out = "\"";
  for (const char c : strip_controls(name))
    if (c != '"') out += c;
  return out + "\"";
}

void line(std::string& out, std::string_view name, std::string_view value) {
  std::string content(name);
  content += ':';
  content += value;
  out += ics_fold_line(content);
}

void person(std::string& out, std::string_view property, std::string_view params, std::string_view name,
            std::string_view email) {
  std::string head(property);
  if (!name.empty()) head += ";CN=" + cn_param(name);
  head += params;
  line(out, head, "mailto:" + strip_controls(email));
}

void event(std::string& out, const ics_calendar& cal, const ics_event& ev) {
  const bool cancel = cal.method == ics_method::cancel;
  line(out, "BEGIN", "VEVENT");
  line(out, "UID", strip_controls(ev.uid));
  line(out, "SEQUENCE", std::to_string(ev.sequence));
  line(out, "DTSTAMP", ics_utc(cal.stamp));
  line(out, "DTSTART", ics_utc(ev.starts_at));
  line(out, "DTEND", ics_utc(ev.ends_at));
  line(out, "SUMMARY", ics_escape_text(ev.summary));
  if (!ev.description.empty()) line(out, "DESCRIPTION", ics_escape_text(ev.description));
  if (!ev.url.empty()) line(out, "URL", strip_controls(ev.url));
  if (!cal.organizer_email.empty()) person(out, "ORGANIZER", "", cal.organizer_name, cal.organizer_email);
  if (!cal.attendee_email.empty())
    person(out, "ATTENDEE", ";ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=FALSE", cal.attendee_name,
           cal.attendee_email);
  line(out, "STATUS", cancel ? "CANCELLED" : "CONFIRMED");
  line(out, "TRANSP", "OPAQUE");
  line(out, "END", "VEVENT");
}

}  // namespace

std::string render_ics(const ics_calendar& cal) {
  std::string out;
  line(out, "BEGIN", "VCALENDAR");
  line(out, "PRODID", strip_controls(cal.prodid));
  line(out, "VERSION", "2.0");
  line(out, "CALSCALE", "GREGORIAN");
  line(out, "METHOD", cal.method == ics_method::cancel ? "CANCEL" : "REQUEST");
  for (const auto& ev : cal.events) event(out, cal, ev);
  line(out, "END", "VCALENDAR");
  return out;
}

std::string ics_content_type(ics_method method) {
  return std::string("text/calendar; method=") + (method == ics_method::cancel ? "CANCEL" : "REQUEST") +
         "; charset=UTF-8";
}

std::string session_uid(std::int64_t webinar_id, std::int64_t session_id, std::string_view host) {
  return "cohort-w" + std::to_string(webinar_id) + "-s" + std::to_string(session_id) + "@" + strip_controls(host);
}

std::string ics_escape_text(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    switch (c) {
      case '\\': out += "\\\\"; break;
      case ';': out += "\\;"; break;
      case ',': out += "\\,"; break;
      case '\n': out += "\\n"; break;
      case '\r':
        if (i + 1 < text.size() && text[i + 1] == '\n') ++i;
        out += "\\n";
        break;
      default:
        // HTAB is allowed in TEXT; other controls are not (RFC 5545 3.3.11).
        if ((static_cast<unsigned char>(c) >= 32 && c != 127) || c == '\t') out += c;
    }
  }
  return out;
}

std::string ics_fold_line(std::string_view content) {
  std::string out;
  // The first line holds 75 octets; a continuation holds 74 after its leading space.
  std::size_t room = max_line_octets;
  while (true) {
    const auto n = utf8_prefix(content, room);
    out.append(content.substr(0, n));
    out += "\r\n";
    content.remove_prefix(n);
    if (content.empty()) break;
    out += ' ';
    room = max_line_octets - 1;
  }
  return out;
}

std::string ics_utc(std::int64_t unix_seconds) {
  const auto t = to_utc(unix_seconds);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d%02d%02dT%02d%02d%02dZ", t.year, t.month, t.day, t.hour, t.minute, t.second);
  return buf;
}

}  // namespace cohort::email

// iCalendar (RFC 5545) invitations attached to confirmation, update and cancellation emails:
// one VCALENDAR with one VEVENT per session. Calendars match events by UID, so a session keeps
// its UID for life; a moved session is sent again with a higher SEQUENCE, a removed one (or a
// cancelled registration) with METHOD:CANCEL. Pure functions, no I/O.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace cohort::email {

enum class ics_method { request, cancel };

struct ics_event {
  std::string uid;     // stable for the session's life, e.g. session_uid(12, 3, "cohort.example.org")
  int sequence = 0;    // raise it whenever the session changes (or is cancelled)
  std::int64_t starts_at = 0;  // unix seconds
  std::int64_t ends_at = 0;
  std::string summary;
  std::string description;
  std::string url;     // e.g. the registrant's join link; empty: no URL property
};

struct ics_calendar {
  ics_method method = ics_method::request;
  std::string prodid = "-//Cohort//Cohort webinars//EN";
  std::int64_t stamp = 0;  // DTSTAMP: when this calendar object was created (unix seconds)
  // Calendar clients ignore an invitation without an ORGANIZER; an empty address omits it.
  std::string organizer_name, organizer_email;
  std::string attendee_name, attendee_email;
  std::vector<ics_event> events;  // STATUS is CONFIRMED, or CANCELLED under METHOD:CANCEL
};

// The whole VCALENDAR, CRLF line endings, lines folded at 75 octets.
std::string render_ics(const ics_calendar& calendar);

// The attachment's Content-Type, whose method must match the calendar's:
// "text/calendar; method=REQUEST; charset=UTF-8" (or CANCEL).
std::string ics_content_type(ics_method method);

// The UID of a session of a series: "cohort-w<webinar>-s<session>@<host>".
std::string session_uid(std::int64_t webinar_id, std::int64_t session_id, std::string_view host);

// The pieces, exposed for tests.
// TEXT value escaping: backslash, ';', ',' and newlines (LF or CRLF → "\n"); other control
// characters are dropped.
std::string ics_escape_text(std::string_view text);
// One content line folded to at most 75 octets per line (continuations start with a space, a
// UTF-8 sequence is never split), each physical line ending in CRLF.
std::string ics_fold_line(std::string_view line);
// "YYYYMMDDTHHMMSSZ".
std::string ics_utc(std::int64_t unix_seconds);

}  // namespace cohort::email

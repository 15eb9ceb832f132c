// One email as an RFC 5322 / MIME message: multipart/mixed holding a multipart/alternative
// (text/plain + text/html, UTF-8, quoted-printable) and base64 attachments. Header values are
// cleaned before they are written (CR, LF and other control characters become spaces, non-ASCII
// text becomes RFC 2047 encoded-words), so no name, subject or extra header can start a header
// of its own. Pure functions, no I/O.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace cohort::email {

// A message that cannot be rendered safely: a bad address, Message-ID or extra header name.
class message_error : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

struct mailbox {
  std::string name;     // display name, any UTF-8; may be empty
  std::string address;  // must pass is_valid_address
};

struct attachment {
  std::string filename;      // a plain name; path separators and control characters are dropped
  std::string content_type;  // e.g. "text/calendar; method=REQUEST; charset=UTF-8"
  std::string bytes;
};

struct header_field {
  std::string name;   // letters, digits and '-'; not one render_mime writes itself
  std::string value;
};

struct mail_message {
  mailbox from;
  mailbox to;
  std::string subject;
  std::string text_body;
  std::string html_body;  // empty: a text/plain part only
  std::vector<attachment> attachments;
  std::vector<header_field> headers;  // e.g. unsubscribe_headers(...), Reply-To
  std::string message_id;             // "<unique@host>", see make_message_id
  std::int64_t date = 0;              // unix seconds
};

// The complete message with CRLF line endings, ready for SMTP DATA or an .eml file.
// Throws message_error on an invalid address, Message-ID or header name.
std::string render_mime(const mail_message& message);

// A plain addr-spec: local@domain, printable ASCII without spaces, quotes, <>, ()[], ',;:\ or
// control characters (so nothing can smuggle in a second address or a header).
bool is_valid_address(std::string_view address);

// "<unique_part@host>"; characters a msg-id may not hold are replaced by '-'.
std::string make_message_id(std::string_view unique_part, std::string_view host);

// RFC 8058 one-click unsubscribe: List-Unsubscribe: <url> and List-Unsubscribe-Post.
// The url must be https and accept a POST with body "List-Unsubscribe=One-Click".
std::vector<header_field> unsubscribe_headers(std::string_view url);

// The pieces, exposed for tests.
// An unstructured header value: control characters become spaces; ASCII stays as is (folded at
// spaces), anything else becomes UTF-8 base64 encoded-words. `used` is the length of "Name: ".
std::string encode_header_text(std::string_view value, std::size_t used);
// "Thu, 15 Jan 2026 10:00:00 +0000".
std::string rfc5322_date(std::int64_t unix_seconds);

}  // namespace cohort::email

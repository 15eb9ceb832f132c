// Byte-level encodings shared by the message formats: base64 and quoted-printable bodies (RFC
// 2045), UTF-8-aware cutting for folded lines and encoded-words, and UTC calendar fields.
// Pure functions, no I/O.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace cohort::email {

// Standard alphabet with padding; line_length 0 means one line, else CRLF every line_length chars.
std::string base64_encode(std::string_view bytes, std::size_t line_length = 0);

// Quoted-printable for UTF-8 text: LF or CRLF become CRLF hard breaks, lines are soft-broken
// ("=" CRLF) to at most 76 characters, '=' and every byte outside printable ASCII are escaped,
// and so are a space or tab at a line's end and a '.' that starts a line.
std::string quoted_printable_encode(std::string_view text);

// The largest n <= max_bytes such that text[0, n) ends on a UTF-8 character boundary (it never
// splits a multi-byte sequence). Returns at least 1 when text is non-empty and max_bytes >= 1, so
// a caller cutting in a loop always advances even on malformed input.
std::size_t utf8_prefix(std::string_view text, std::size_t max_bytes);

bool is_ascii(std::string_view text);

// UTC date and time of a unix time, the parts the formats need.
struct utc_time {
  int year, month, day, hour, minute, second;
  int weekday;  // 0 = Sunday
};
utc_time to_utc(std::int64_t unix_seconds);

}  // namespace cohort::email

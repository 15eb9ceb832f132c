#include "email/encoding.hpp"

#include <chrono>

namespace cohort::email {
namespace {

constexpr char base64_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr char hex_digits[] = "0123456789ABCDEF";
constexpr std::size_t qp_max_line = 76;

bool is_continuation(unsigned char c) { return (c & 0xC0) == 0x80; }

}  // namespace

std::string base64_encode(std::string_view bytes, std::size_t line_length) {
  std::string plain;
  plain.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const auto n = static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i])) << 16 |
                   static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i + 1])) << 8 |
                   static_cast<unsigned char>(bytes[i + 2]);
    for (int shift : {18, 12, 6, 0}) plain += base64_alphabet[(n >> shift) & 0x3F];
  }
  if (const auto rest = bytes.size() - i; rest > 0) {
    std::uint32_t n = static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i])) << 16;
    if (rest == 2) n |= static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i + 1])) << 8;
    plain += base64_alphabet[(n >> 18) & 0x3F];
    plain += base64_alphabet[(n >> 12) & 0x3F];
    plain += rest == 2 ? base64_alphabet[(n >> 6) & 0x3F] : '=';
    plain += '=';
  }
  if (line_length == 0) return plain;
  std::string out;
  out.reserve(plain.size() + plain.size() / line_length * 2 + 2);
  for (std::size_t pos = 0; pos < plain.size(); pos += line_length) {
    if (pos > 0) out += "\r\n";
    out.append(plain, pos, line_length);
  }
  return out;
}

std::string quoted_printable_encode(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 8);
  std::size_t column = 0;
  // Soft-breaks ("=" CRLF) when a unit of `width` characters would not fit on the line: 76 at
  // most, counting the '=' a soft break needs unless the hard line ends right after the unit.
  auto make_room = [&](std::size_t width, bool line_ends_after) {
    if (column + width > (line_ends_after ? qp_max_line : qp_max_line - 1)) {
      out += "=\r\n";
      column = 0;
    }
  };
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == '\n' || (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n')) {
      if (c == '\r') ++i;
      out += "\r\n";
      column = 0;
      continue;
    }
    // A lone CR does not end the line: it is written as =0D on this one.
    const bool at_line_end = i + 1 == text.size() || text[i + 1] == '\n' ||
                             (text[i + 1] == '\r' && i + 2 < text.size() && text[i + 2] == '\n');
    bool escape = c == '=' || c > 126 || (c < 32 && c != '\t') || ((c == ' ' || c == '\t') && at_line_end);
    if (!escape) {
      make_room(1, at_line_end);
      // A lone "." line would end the SMTP DATA phase on a relay that does not dot-stuff.
      escape = c == '.' && column == 0;
    }
    if (escape) {
      make_room(3, at_line_end);
      out += '=';
      out += hex_digits[c >> 4];
      out += hex_digits[c & 0xF];
      column += 3;
    } else {
      out += static_cast<char>(c);
      ++column;
    }
  }
  return out;
}

std::size_t utf8_prefix(std::string_view text, std::size_t max_bytes) {
  if (text.size() <= max_bytes) return text.size();
  std::size_t n = max_bytes;
  // Back off while the first byte left out continues the sequence the cut would split.
  while (n > 0 && is_continuation(static_cast<unsigned char>(text[n]))) --n;
  if (n == 0) return max_bytes == 0 ? 0 : 1;
  return n;
}

bool is_ascii(std::string_view text) {
  for (const char c : text)
    if (static_cast<unsigned char>(c) > 127) return false;
  return true;
}

utc_time to_utc(std::int64_t unix_seconds) {
  using namespace std::chrono;
  const sys_seconds t{seconds{unix_seconds}};
  const auto day_start = floor<days>(t);
  const year_month_day ymd{day_start};
  const hh_mm_ss hms{t - day_start};
  return utc_time{static_cast<int>(ymd.year()),
                  static_cast<int>(static_cast<unsigned>(ymd.month())),
                  static_cast<int>(static_cast<unsigned>(ymd.day())),
                  static_cast<int>(hms.hours().count()),
                  static_cast<int>(hms.minutes().count()),
                  static_cast<int>(hms.seconds().count()),
                  static_cast<int>(weekday{day_start}.c_encoding())};
}

}  // namespace cohort::email

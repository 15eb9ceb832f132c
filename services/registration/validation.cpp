#include "registration/validation.hpp"

#include <algorithm>
#include <vector>

namespace cohort::registration {
namespace {

bool is_ascii_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  for (;;) {
    const auto pos = s.find(sep, start);
    out.push_back(s.substr(start, pos == std::string_view::npos ? std::string_view::npos : pos - start));
    if (pos == std::string_view::npos) return out;
    start = pos + 1;
  }
}

bool valid_local_part(std::string_view local) {
  if (local.empty() || local.size() > 64 || local.front() == '.' || local.back() == '.') return false;
  if (local.find("..") != std::string_view::npos) return false;
  static constexpr std::string_view specials = "!#$%&'*+/=?^_`{|}~.-";
  return std::all_of(local.begin(), local.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u >= 0x80 || std::isalnum(u) || specials.find(c) != std::string_view::npos;
  });
}

bool valid_domain(std::string_view domain) {
  if (domain.empty() || domain.size() > 253) return false;
  const auto labels = split(domain, '.');
  if (labels.size() < 2) return false;
  for (auto label : labels) {
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') return false;
    for (char c : label) {
      const auto u = static_cast<unsigned char>(c);
      if (!(u >= 0x80 || std::isalnum(u) || c == '-')) return false;
    }
  }
  const auto tld = labels.back();
  if (tld.size() < 2) return false;
  // A TLD is letters (or an IDN / punycode label), never all digits as in 10.0.0.1.
  return std::any_of(tld.begin(), tld.end(), [](char c) { return !std::isdigit(static_cast<unsigned char>(c)); });
}

}  // namespace

bool valid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t len;
    std::uint32_t cp;
    if (c < 0x80) { ++i; continue; }
    if ((c & 0xe0) == 0xc0) { len = 2; cp = c & 0x1f; }
    else if ((c & 0xf0) == 0xe0) { len = 3; cp = c & 0x0f; }
    else if ((c & 0xf8) == 0xf0) { len = 4; cp = c & 0x07; }
    else return false;
    if (i + len > s.size()) return false;
    for (std::size_t k = 1; k < len; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3f);
    }
    // Overlong forms, surrogates and values past U+10FFFF are not UTF-8.
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10ffff ||
        (cp >= 0xd800 && cp <= 0xdfff))
      return false;
    i += len;
  }
  return true;
}

std::size_t utf8_length(std::string_view s) {
  return static_cast<std::size_t>(
      std::count_if(s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xc0) != 0x80; }));
}

bool has_control_chars(std::string_view s, bool allow_newlines) {
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (allow_newlines && (c == '\n' || c == '\r' || c == '\t')) continue;
    if (c < 0x20 || c == 0x7f) return true;
    // C1 controls U+0080..U+009F are encoded as C2 80..C2 9F.
    if (c == 0xc2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) >= 0x80 &&
        static_cast<unsigned char>(s[i + 1]) <= 0x9f)
      return true;
  }
  return false;
}

std::string trim(std::string_view s) {
  while (!s.empty() && is_ascii_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_ascii_space(s.back())) s.remove_suffix(1);
  return std::string(s);
}

std::optional<std::string> email_key(std::string_view raw) {
  std::string email = trim(raw);
  if (email.empty() || email.size() > 254 || !valid_utf8(email) || has_control_chars(email)) return std::nullopt;
  const auto at = email.find('@');
  if (at == std::string::npos || email.find('@', at + 1) != std::string::npos) return std::nullopt;
  for (auto& c : email)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  if (!valid_local_part(std::string_view(email).substr(0, at)) || !valid_domain(std::string_view(email).substr(at + 1)))
    return std::nullopt;
  return email;
}

bool mailable_address(std::string_view email) {
  return std::all_of(email.begin(), email.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

std::string required_text(std::string_view raw, const std::string& field, std::size_t max_chars) {
  auto value = trim(raw);
  if (value.empty()) throw validation_error(field, field + " is required");
  if (!valid_utf8(value)) throw validation_error(field, field + " must be valid UTF-8");
  if (has_control_chars(value)) throw validation_error(field, field + " must not contain control characters");
  if (utf8_length(value) > max_chars)
    throw validation_error(field, field + " must be at most " + std::to_string(max_chars) + " characters");
  return value;
}

std::string optional_text(std::string_view raw, const std::string& field, std::size_t max_chars, bool allow_newlines) {
  auto value = trim(raw);
  if (!valid_utf8(value)) throw validation_error(field, field + " must be valid UTF-8");
  if (has_control_chars(value, allow_newlines)) throw validation_error(field, field + " must not contain control characters");
  if (utf8_length(value) > max_chars)
    throw validation_error(field, field + " must be at most " + std::to_string(max_chars) + " characters");
  return value;
}

}  // namespace cohort::registration

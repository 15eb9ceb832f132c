#include "registration/validation.hpp"

#include "common/text.hpp"

#include <algorithm>
#include <vector>

namespace cohort::registration {

using common::has_control_chars;
using common::trim;
using common::utf8_length;
using common::valid_utf8;

namespace {

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

}  // namespace cohort::registration

// Test support: a small, strict reader for the messages render_mime writes, so tests check
// structure by parsing it back (headers unfolded, multipart split, base64 / quoted-printable
// decoded) instead of comparing strings.
#pragma once

#include <catch2/catch.hpp>

#include <algorithm>
#include <cctype>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace cohort::email::testing {

struct entity {
  std::vector<std::pair<std::string, std::string>> headers;  // unfolded, in order
  std::vector<std::string> raw_header_lines;                 // as written, folds included
  std::string body;

  std::optional<std::string> header(std::string_view name) const {
    for (const auto& [n, v] : headers) {
      if (n.size() == name.size() &&
          std::equal(n.begin(), n.end(), name.begin(), [](char a, char b) { return std::tolower(a) == std::tolower(b); }))
        return v;
    }
    return std::nullopt;
  }
  std::size_t count(std::string_view name) const {
    std::size_t n = 0;
    for (const auto& [k, v] : headers)
      if (k.size() == name.size() &&
          std::equal(k.begin(), k.end(), name.begin(), [](char a, char b) { return std::tolower(a) == std::tolower(b); }))
        ++n;
    return n;
  }
};

// Headers up to the first empty line, then the body. Every line must end in CRLF.
inline entity parse_entity(const std::string& raw) {
  entity e;
  std::size_t pos = 0;
  while (true) {
    const auto end = raw.find("\r\n", pos);
    REQUIRE(end != std::string::npos);
    const auto line = raw.substr(pos, end - pos);
    pos = end + 2;
    if (line.empty()) break;
    e.raw_header_lines.push_back(line);
    if (line[0] == ' ' || line[0] == '\t') {
      REQUIRE(!e.headers.empty());
      e.headers.back().second += line;  // unfolding removes only the CRLF
      continue;
    }
    const auto colon = line.find(':');
    REQUIRE(colon != std::string::npos);
    auto value = line.substr(colon + 1);
    if (!value.empty() && value[0] == ' ') value.erase(0, 1);
    e.headers.emplace_back(line.substr(0, colon), value);
  }
  e.body = raw.substr(pos);
  return e;
}

inline std::string boundary_of(const std::string& content_type) {
  const auto at = content_type.find("boundary=\"");
  REQUIRE(at != std::string::npos);
  const auto start = at + 10;
  const auto end = content_type.find('"', start);
  REQUIRE(end != std::string::npos);
  return content_type.substr(start, end - start);
}

// The body parts between "--boundary" delimiter lines, up to "--boundary--" (RFC 2046 5.1.1:
// the CRLF before a delimiter belongs to the delimiter).
inline std::vector<std::string> split_multipart(const std::string& body, const std::string& boundary) {
  const auto delimiter = "\r\n--" + boundary;
  const auto padded = "\r\n" + body;
  std::vector<std::string> parts;
  auto pos = padded.find(delimiter);
  REQUIRE(pos != std::string::npos);
  while (true) {
    pos += delimiter.size();
    if (padded.compare(pos, 2, "--") == 0) break;
    REQUIRE(padded.compare(pos, 2, "\r\n") == 0);
    pos += 2;
    const auto next = padded.find(delimiter, pos);
    REQUIRE(next != std::string::npos);
    parts.push_back(padded.substr(pos, next - pos));
    pos = next;
  }
  return parts;
}

inline std::string base64_decode(const std::string& text) {
  std::string out;
  std::uint32_t buffer = 0;
  int bits = 0;
  for (const char c : text) {
    int v;
    if (c >= 'A' && c <= 'Z') v = c - 'A';
    else if (c >= 'a' && c <= 'z') v = c - 'a' + 26;
    else if (c >= '0' && c <= '9') v = c - '0' + 52;
    else if (c == '+') v = 62;
    else if (c == '/') v = 63;
    else continue;  // CRLF, padding
    buffer = (buffer << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((buffer >> bits) & 0xFF);
    }
  }
  return out;
}

inline std::string quoted_printable_decode(const std::string& text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '=') {
      out += text[i];
      continue;
    }
    if (text.compare(i + 1, 2, "\r\n") == 0) {  // soft line break
      i += 2;
      continue;
    }
    REQUIRE(i + 2 < text.size());
    out += static_cast<char>(std::stoi(text.substr(i + 1, 2), nullptr, 16));
    i += 2;
  }
  return out;
}

// Decodes "=?UTF-8?B?...?=" words (whitespace between adjacent words is dropped).
inline std::string decode_encoded_words(const std::string& value) {
  std::string out;
  std::size_t pos = 0;
  bool last_was_word = false;
  while (pos < value.size()) {
    const auto start = value.find("=?UTF-8?B?", pos);
    if (start == std::string::npos) {
      out += value.substr(pos);
      break;
    }
    const auto between = value.substr(pos, start - pos);
    if (!(last_was_word && between.find_first_not_of(" \t") == std::string::npos)) out += between;
    const auto end = value.find("?=", start + 10);
    REQUIRE(end != std::string::npos);
    out += base64_decode(value.substr(start + 10, end - start - 10));
    pos = end + 2;
    last_was_word = true;
  }
  return out;
}

}  // namespace cohort::email::testing

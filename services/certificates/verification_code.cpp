#include "certificates/verification_code.hpp"

#include "common/bytes.hpp"

#include <cstdint>

namespace cohort::certificates {
namespace {

constexpr std::string_view alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

std::optional<char> canonical(char c) {
  if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  if (c == 'O') return '0';
  if (c == 'I' || c == 'L') return '1';
  if (alphabet.find(c) == std::string_view::npos) return std::nullopt;
  return c;
}

}  // namespace

std::string random_code() {
  const auto bytes = common::random_bytes(8);
  std::uint64_t bits = 0;
  for (const unsigned char b : bytes) bits = (bits << 8) | b;
  std::string raw;
  for (std::size_t i = 0; i < code_chars; ++i, bits >>= 5) raw += alphabet[bits & 31];
  return format_code(raw);
}

std::string format_code(std::string_view twelve) {
  return std::string(twelve.substr(0, 4)) + "-" + std::string(twelve.substr(4, 4)) + "-" + std::string(twelve.substr(8, 4));
}

std::optional<std::string> normalize_code(std::string_view raw) {
  if (raw.size() > 40) return std::nullopt;
  std::string out;
  for (const char c : raw) {
    if (c == '-' || c == ' ') continue;
    const auto k = canonical(c);
    if (!k || out.size() == code_chars) return std::nullopt;
    out += *k;
  }
  if (out.size() != code_chars) return std::nullopt;
  return format_code(out);
}

}  // namespace cohort::certificates

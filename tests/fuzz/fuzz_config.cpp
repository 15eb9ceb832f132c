// The TOML configuration loader (config/config: apply_toml, the text -> config step that
// parse_command_line runs on the --config file, then validate). Input: TOML text (seeds: the
// repository's config/*.toml, the README's examples, a few invalid ones).
// Invariants, beyond no crash / no sanitizer report: the text either loads and then validates, or
// fails with a config_error that says where: "config: fuzz.toml:LINE: ..." for TOML syntax, or
// "config: KEY ..." naming the section or key; no other exception escapes.
// fuzz-libs: cohort_config
#include "config/config.hpp"

#include <cctype>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {

[[noreturn]] void violated(const char* what, const std::string& message) {
  std::fprintf(stderr, "fuzz_config: invariant violated: %s: %s\n", what, message.c_str());
  std::abort();
}

constexpr std::string_view sections[] = {"server", "limits", "storage", "auth", "chat", "bus", "drops",
                                         "attendance", "streaming", "email", "registration", "privacy", "ce"};

// "config: fuzz.toml:12: ...", "config: limits.uploads_max must be ...", "config: nosuch is not a known section ...".
bool says_where(std::string_view m) {
  if (!m.starts_with("config: ")) return false;
  m.remove_prefix(8);
  if (m.starts_with("fuzz.toml:")) {
    m.remove_prefix(10);
    std::size_t digits = 0;
    while (digits < m.size() && std::isdigit(static_cast<unsigned char>(m[digits]))) ++digits;
    return digits > 0 && m.substr(digits).starts_with(": ") && m.substr(0, digits) != "0";
  }
  if (m.find(" is not a known section") != std::string_view::npos) return true;  // names what it read
  for (const auto s : sections)
    if (m.starts_with(s) && m.size() > s.size() && (m[s.size()] == '.' || m[s.size()] == ' ')) return true;
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > 64 * 1024) return 0;  // a config file is a few KB
  const std::string text(reinterpret_cast<const char*>(data), size);
  cohort::config cfg;
  try {
    cohort::apply_toml(cfg, text, "fuzz.toml");
    cohort::validate(cfg);
  } catch (const cohort::config_error& e) {
    if (!says_where(e.what())) violated("a config_error that names no key or line", e.what());
  }
  return 0;  // anything else thrown escapes: libFuzzer reports it as a crash
}

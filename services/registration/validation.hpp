// Pure checks for what people type into the registration form and what organizers send.
#pragma once

#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace cohort::registration {

// A value the caller must fix; becomes HTTP 422 with `field`.
struct validation_error : std::runtime_error {
  validation_error(std::string field, const std::string& message) : std::runtime_error(message), field(std::move(field)) {}
  std::string field;
};

// The thing named does not exist; becomes HTTP 404.
struct not_found_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// The key an email is deduplicated by: trimmed, ASCII letters lower-cased. nullopt when the
// address is not plausible syntax: one @, a non-empty local part without spaces or leading,
// trailing or doubled dots, a domain of dot-separated labels (letters, digits, hyphens, or any
// non-ASCII for IDNs) with a top-level label of two or more letters, at most 254 octets.
std::optional<std::string> email_key(std::string_view raw);
// Whether Cohort's mail can reach the address: ASCII only. The SMTP sender does not speak
// SMTPUTF8, so a signup with an accented or non-Latin address (an IDN domain too, unless given
// in its xn-- form) is refused up front instead of failing every mail afterwards.
bool mailable_address(std::string_view email);

// Trims, then requires 1..max_chars code points and no control characters. Throws validation_error.
std::string required_text(std::string_view raw, const std::string& field, std::size_t max_chars);
// Trims; empty is allowed. Throws validation_error.
std::string optional_text(std::string_view raw, const std::string& field, std::size_t max_chars, bool allow_newlines = false);

}  // namespace cohort::registration

// Pure checks for what people type into the registration form and what organizers send.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace cohort::registration {

// The key an email is deduplicated by: trimmed, ASCII letters lower-cased. nullopt when the
// address is not plausible syntax: one @, a non-empty local part without spaces or leading,
// trailing or doubled dots, a domain of dot-separated labels (letters, digits, hyphens, or any
// non-ASCII for IDNs) with a top-level label of two or more letters, at most 254 octets.
std::optional<std::string> email_key(std::string_view raw);
// Whether Cohort's mail can reach the address: ASCII only. The SMTP sender does not speak
// SMTPUTF8, so a signup with an accented or non-Latin address (an IDN domain too, unless given
// in its xn-- form) is refused up front instead of failing every mail afterwards.
bool mailable_address(std::string_view email);

}  // namespace cohort::registration

// Checks and clean-up for text people type (names, titles, chat messages, file names): UTF-8
// well-formedness, length in code points, control characters, surrounding whitespace.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace cohort::common {

bool valid_utf8(std::string_view s);
// Code points in valid UTF-8.
std::size_t utf8_length(std::string_view s);
// C0 controls, DEL and C1 controls; `allow_newlines` permits \n, \r and \t (descriptions).
bool has_control_chars(std::string_view s, bool allow_newlines = false);
// Strips ASCII whitespace at both ends.
std::string trim(std::string_view s);

// Trims, then requires 1..max_chars code points and no control characters. Throws invalid(field).
std::string required_text(std::string_view raw, const std::string& field, std::size_t max_chars);
// Trims; empty is allowed. Throws invalid(field).
std::string optional_text(std::string_view raw, const std::string& field, std::size_t max_chars, bool allow_newlines = false);

}  // namespace cohort::common

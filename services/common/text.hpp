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

}  // namespace cohort::common

// RFC 3339 timestamps <-> Unix seconds. Input takes any offset ("Z", "+02:00") and an optional
// fraction (dropped); output is always UTC with "Z" and whole seconds.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace cohort::common {

std::optional<std::int64_t> parse_rfc3339(std::string_view text);
std::string format_rfc3339(std::int64_t unix_seconds);
std::int64_t unix_now();

}  // namespace cohort::common

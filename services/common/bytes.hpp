// Random bytes from the system's CSPRNG, and bytes spelled as lower-case hex: for tokens,
// stream keys, node ids and digests people or logs read.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace cohort::common {

// n bytes from OpenSSL's CSPRNG. Throws std::runtime_error if it fails.
std::string random_bytes(std::size_t n);
// Two lower-case hex digits per byte.
std::string hex(std::string_view bytes);

}  // namespace cohort::common

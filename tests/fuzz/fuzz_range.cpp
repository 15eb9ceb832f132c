// The Range header parser (gateway/http_types): any header against any size yields whole, or a slice
// inside the file, or unsatisfiable; never a slice past the end or reversed.
// fuzz-libs: cohort_gateway
#include "gateway/http_types.hpp"

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 8) return 0;
  std::uint64_t file_size = 0;
  std::memcpy(&file_size, data, 8);
  file_size %= (1ULL << 40);  // up to a terabyte: recordings and uploads are far smaller
  const std::string_view header(reinterpret_cast<const char*>(data + 8), size - 8);
  const auto r = cohort::http::parse_range(header, file_size);
  if (r.result == cohort::http::byte_range::kind::partial && (r.first > r.last || r.last >= file_size)) std::abort();
  return 0;
}

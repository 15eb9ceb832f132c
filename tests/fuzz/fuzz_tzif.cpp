// The TZif reader (common/time_zone): version 1 files, version 2+ files (the 64-bit block after
// the 32-bit one) and their POSIX TZ footer ("PST8PDT,M3.2.0,M11.1.0", "<+0530>-5:30").
// Input: the bytes of a zone file (seeds: real files from /usr/share/zoneinfo, plus a v1-only and a
// cut one). Invariants, beyond no crash / no sanitizer report:
//  - bytes that are not TZif throw std::runtime_error (documented), never anything else;
//  - an accepted zone converts a fixed list of instants, from the far past to the far future
//    (int64 extremes included), without UB, to an offset within +-26 h (RFC 8536 3.2).
// fuzz-libs: cohort_common
#include "common/time_zone.hpp"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <stdexcept>
#include <string_view>

using cohort::common::time_zone;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > (1 << 20)) return 0;  // time_zone::find reads at most 1 MiB
  std::shared_ptr<const time_zone> zone;
  try {
    zone = time_zone::parse("Fuzz/Zone", std::string_view(reinterpret_cast<const char*>(data), size));
  } catch (const std::runtime_error&) {
    return 0;  // not TZif: time_zone::find treats it as no such zone
  }
  constexpr std::int64_t min = std::numeric_limits<std::int64_t>::min(), max = std::numeric_limits<std::int64_t>::max();
  constexpr std::int64_t instants[] = {
      min, min + 1, -(std::int64_t{1} << 59), -62135596800 /* year 1 */, -2208988800 /* 1900 */, -2147483649, -2147483648,
      -1, 0, 1, 1'000'000'000, 1'796'000'000 /* 2026 */, 2'147'483'647, 2'147'483'648, 4'102'444'800 /* 2100 */,
      253'402'300'799 /* 9999-12-31 */, std::int64_t{1} << 59, max - 1, max};
  for (const auto t : instants) {
    const auto local = zone->at(t);
    if (local.utc_offset_seconds < -26 * 3600 || local.utc_offset_seconds > 26 * 3600) {
      std::fprintf(stderr, "fuzz_tzif: offset %d s at %lld is over 26 h\n", local.utc_offset_seconds, static_cast<long long>(t));
      std::abort();
    }
  }
  return 0;
}

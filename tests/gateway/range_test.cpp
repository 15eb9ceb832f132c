#include "gateway/http_types.hpp"

#include <catch2/catch.hpp>

namespace {

using cohort::http::byte_range;
using cohort::http::parse_range;
using kind = byte_range::kind;

void check_partial(std::string_view header, std::uint64_t size, std::uint64_t first, std::uint64_t last) {
  INFO("Range: " << header << " of " << size << " bytes");
  const auto r = parse_range(header, size);
  REQUIRE(r.result == kind::partial);
  CHECK(r.first == first);
  CHECK(r.last == last);
}

void check_kind(std::string_view header, std::uint64_t size, kind expected) {
  INFO("Range: " << header << " of " << size << " bytes");
  CHECK(parse_range(header, size).result == expected);
}

}  // namespace

TEST_CASE("parse_range: a closed range", "[gateway][range]") {
  check_partial("bytes=0-99", 1000, 0, 99);
  check_partial("bytes=100-199", 1000, 100, 199);
  check_partial("bytes=5-5", 1000, 5, 5);  // one byte
  check_partial("bytes=999-999", 1000, 999, 999);
}

TEST_CASE("parse_range: an open-ended range runs to the end", "[gateway][range]") {
  check_partial("bytes=100-", 1000, 100, 999);
  check_partial("bytes=0-", 1000, 0, 999);
  check_partial("bytes=999-", 1000, 999, 999);
}

TEST_CASE("parse_range: a suffix range is the last n bytes", "[gateway][range]") {
  check_partial("bytes=-100", 1000, 900, 999);
  check_partial("bytes=-1", 1000, 999, 999);
  check_partial("bytes=-1000", 1000, 0, 999);
}

TEST_CASE("parse_range: a suffix larger than the resource is all of it", "[gateway][range]") {
  check_partial("bytes=-5000", 1000, 0, 999);
  check_partial("bytes=-2", 1, 0, 0);
}

TEST_CASE("parse_range: a last position beyond the end is clamped", "[gateway][range]") {
  check_partial("bytes=0-5000", 1000, 0, 999);
  check_partial("bytes=500-1000", 1000, 500, 999);
  check_partial("bytes=0-18446744073709551615", 10, 0, 9);
}

TEST_CASE("parse_range: a first position at or past the end is unsatisfiable", "[gateway][range]") {
  check_kind("bytes=1000-", 1000, kind::unsatisfiable);
  check_kind("bytes=1000-2000", 1000, kind::unsatisfiable);
  check_kind("bytes=5000-6000", 1000, kind::unsatisfiable);
}

TEST_CASE("parse_range: a zero-length suffix is unsatisfiable", "[gateway][range]") {
  check_kind("bytes=-0", 1000, kind::unsatisfiable);
  check_kind("bytes=-0", 0, kind::unsatisfiable);
}

TEST_CASE("parse_range: an empty resource satisfies no range", "[gateway][range]") {
  check_kind("bytes=0-", 0, kind::unsatisfiable);
  check_kind("bytes=0-99", 0, kind::unsatisfiable);
  check_kind("bytes=-100", 0, kind::unsatisfiable);
  check_kind("", 0, kind::whole);
}

TEST_CASE("parse_range: headers it does not honour mean the whole resource", "[gateway][range]") {
  for (const char* header : {
           "",                   // no header
           "bytes=0-99,200-299",  // multiple ranges: ignored (RFC 9110 allows it)
           "bytes=0-0,-1",
           "items=0-99",  // another unit
           "bytes 0-99",
           "bytes=",
           "bytes=-",
           "bytes=abc",
           "bytes=a-b",
           "bytes=10",
           "bytes=1-2-3",
           "bytes= 0-99",
           "bytes=0-99 ",
           "bytes=+1-5",
           "bytes=--5",
           "bytes=0x10-20",
           "bytes=99999999999999999999-",  // does not fit 64 bits
       }) {
    INFO("Range: " << header);
    CHECK(parse_range(header, 1000).result == kind::whole);
  }
}

TEST_CASE("parse_range: last before first means the whole resource", "[gateway][range]") {
  check_kind("bytes=100-99", 1000, kind::whole);
  check_kind("bytes=500-0", 1000, kind::whole);
  // ...even when first is past the end.
  check_kind("bytes=2000-1500", 1000, kind::whole);
}

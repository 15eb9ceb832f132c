#include "common/rfc3339.hpp"

#include <catch2/catch.hpp>

#include <string>

namespace {

using cohort::common::format_rfc3339;
using cohort::common::parse_rfc3339;
using opt = std::optional<std::int64_t>;

}  // namespace

TEST_CASE("parse_rfc3339 reads UTC times", "[common]") {
  CHECK(parse_rfc3339("1970-01-01T00:00:00Z") == opt(0));
  CHECK(parse_rfc3339("2026-01-15T10:00:00Z") == opt(1768471200));
  CHECK(parse_rfc3339("2024-02-29T23:59:59Z") == opt(1709251199));  // leap day
  CHECK(parse_rfc3339("2000-03-01T00:00:00Z") == opt(951868800));
  CHECK(parse_rfc3339("1900-01-01T00:00:00Z") == opt(-2208988800));
  CHECK(parse_rfc3339("9999-12-31T23:59:59Z") == opt(253402300799));
  // lower-case t and z, and the space RFC 3339 allows in place of T
  CHECK(parse_rfc3339("2026-01-15t10:00:00z") == opt(1768471200));
  CHECK(parse_rfc3339("2026-01-15 10:00:00Z") == opt(1768471200));
}

TEST_CASE("parse_rfc3339 applies the offset", "[common]") {
  const opt ten_utc(1768471200);
  CHECK(parse_rfc3339("2026-01-15T12:00:00+02:00") == ten_utc);
  CHECK(parse_rfc3339("2026-01-15T04:30:00-05:30") == ten_utc);
  CHECK(parse_rfc3339("2026-01-15T10:00:00+00:00") == ten_utc);
  CHECK(parse_rfc3339("2026-01-15T10:00:00-00:00") == ten_utc);
  CHECK(parse_rfc3339("2026-01-16T09:59:00+23:59") == ten_utc);
  // the offset can move the instant into another day or year
  CHECK(parse_rfc3339("2025-12-31T23:00:00-01:00") == parse_rfc3339("2026-01-01T00:00:00Z"));
}

TEST_CASE("parse_rfc3339 drops a fraction of a second", "[common]") {
  const opt ten_utc(1768471200);
  CHECK(parse_rfc3339("2026-01-15T10:00:00.5Z") == ten_utc);
  CHECK(parse_rfc3339("2026-01-15T10:00:00.999999999Z") == ten_utc);
  CHECK(parse_rfc3339("2026-01-15T12:00:00.123+02:00") == ten_utc);
}

TEST_CASE("parse_rfc3339 folds a leap second into the next second", "[common]") {
  CHECK(parse_rfc3339("2016-12-31T23:59:60Z") == parse_rfc3339("2017-01-01T00:00:00Z"));
}

TEST_CASE("parse_rfc3339 rejects dates that do not exist", "[common]") {
  for (const std::string bad : {"2026-02-30T00:00:00Z", "2025-02-29T00:00:00Z", "2100-02-29T00:00:00Z", "2026-04-31T00:00:00Z",
                                "2026-13-01T00:00:00Z", "2026-00-10T00:00:00Z", "2026-01-00T00:00:00Z", "2026-01-32T00:00:00Z",
                                "2026-01-15T24:00:00Z", "2026-01-15T23:60:00Z", "2026-01-15T23:59:61Z"}) {
    INFO(bad);
    CHECK_FALSE(parse_rfc3339(bad));
  }
  CHECK(parse_rfc3339("2000-02-29T00:00:00Z"));  // 2000 was a leap year
}

TEST_CASE("parse_rfc3339 rejects text that is not RFC 3339", "[common]") {
  for (const std::string bad : {"", "2026-01-15", "2026-01-15T10:00:00", "2026-01-15T10:00Z", "2026-1-15T10:00:00Z",
                                "26-01-15T10:00:00Z", "2026/01/15T10:00:00Z", "2026-01-15X10:00:00Z", "2026-01-15T10:00:00.Z",
                                "2026-01-15T10:00:00.5", "2026-01-15T10:00:00+24:00", "2026-01-15T10:00:00+02:60",
                                "2026-01-15T10:00:00+0200", "2026-01-15T10:00:00+02", "2026-01-15T10:00:00+02:0",
                                "2026-01-15T10:00:00ZZ", "2026-01-15T10:00:00Z ", " 2026-01-15T10:00:00Z",
                                "2026-01-15T10:00:00+02:00junk", "2026-01-15T1a:00:00Z", "+2026-01-15T10:00:00Z",
                                "2026-01-15T10:00:00 UTC", "1768471200"}) {
    INFO("\"" << bad << "\"");
    CHECK_FALSE(parse_rfc3339(bad));
  }
}

TEST_CASE("format_rfc3339 writes UTC with Z and whole seconds", "[common]") {
  CHECK(format_rfc3339(0) == "1970-01-01T00:00:00Z");
  CHECK(format_rfc3339(1768471200) == "2026-01-15T10:00:00Z");
  CHECK(format_rfc3339(-1) == "1969-12-31T23:59:59Z");
  CHECK(format_rfc3339(-2208988800) == "1900-01-01T00:00:00Z");
  CHECK(format_rfc3339(253402300799) == "9999-12-31T23:59:59Z");
}

TEST_CASE("format and parse are inverse", "[common]") {
  for (const std::string text : {"1970-01-01T00:00:00Z", "2026-01-15T10:00:00Z", "2024-02-29T12:34:56Z", "1969-07-20T20:17:40Z",
                                 "2038-01-19T03:14:08Z", "2099-12-31T23:59:59Z"}) {
    INFO(text);
    const auto t = parse_rfc3339(text);
    REQUIRE(t);
    CHECK(format_rfc3339(*t) == text);
  }
  for (std::int64_t t : {std::int64_t{0}, std::int64_t{86399}, std::int64_t{86400}, std::int64_t{-86401},
                         std::int64_t{1768471200}, std::int64_t{4102444800}}) {
    INFO(t);
    CHECK(parse_rfc3339(format_rfc3339(t)) == opt(t));
  }
  // an offset is normalized to Z
  CHECK(format_rfc3339(*parse_rfc3339("2026-06-01T20:00:00+02:00")) == "2026-06-01T18:00:00Z");
}

TEST_CASE("unix_now is the current time", "[common]") {
  const auto now = cohort::common::unix_now();
  CHECK(now > *parse_rfc3339("2024-01-01T00:00:00Z"));
  CHECK(now < *parse_rfc3339("2200-01-01T00:00:00Z"));
}

#include "common/time_zone.hpp"

#include <catch2/catch.hpp>

#include <cstdint>
#include <cstdlib>
#include <ctime>
#include <random>
#include <string>

namespace {

using cohort::common::plausible_zone_name;
using cohort::common::time_zone;

constexpr std::int64_t hour = 3600, day = 86400;

// glibc as the oracle: it reads the same TZif files (and their footer past the table). Setting
// TZ is process-wide, which is fine in this single-threaded test.
struct libc_local {
  long offset;
  std::string abbreviation;
};
libc_local libc_at(const std::string& zone, std::int64_t t) {
  ::setenv("TZ", (":" + zone).c_str(), 1);
  ::tzset();
  const std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  ::localtime_r(&tt, &tm);
  return {tm.tm_gmtoff, tm.tm_zone ? tm.tm_zone : ""};
}

}  // namespace

TEST_CASE("Chicago: CST in winter, CDT in summer, switching at 2 am local", "[common][time_zone]") {
  const auto chicago = time_zone::find("America/Chicago");
  REQUIRE(chicago);
  CHECK(chicago->name() == "America/Chicago");
  CHECK(chicago->at(1796320800).utc_offset_seconds == -6 * hour);  // 2026-12-03T18:00:00Z
  CHECK(chicago->at(1796320800).abbreviation == "CST");
  CHECK(chicago->at(1782925200).utc_offset_seconds == -5 * hour);  // 2026-07-01T17:00:00Z
  CHECK(chicago->at(1782925200).abbreviation == "CDT");
  const std::int64_t spring_forward = 1772956800;  // 2026-03-08T08:00:00Z = 2:00 CST
  CHECK(chicago->at(spring_forward - 1).abbreviation == "CST");
  CHECK(chicago->at(spring_forward).abbreviation == "CDT");
  // Past the last transition in the file (2037): the footer's rule.
  const std::int64_t jan_2045 = 2368051200, jul_2045 = 2383257600;
  CHECK(chicago->at(jan_2045).abbreviation == "CST");
  CHECK(chicago->at(jul_2045).abbreviation == "CDT");
  CHECK(time_zone::find("America/Chicago") == chicago);  // read once
}

TEST_CASE("offsets and abbreviations equal glibc's for zones of every kind, 1970 to 2070", "[common][time_zone]") {
  // Northern and southern DST, half and quarter hours, no DST, negative DST (Dublin), numeric
  // abbreviations, rules at 24:00 (Santiago), frequent changes (Casablanca).
  const char* zones[] = {"America/Chicago",  "America/Los_Angeles", "Europe/Berlin",   "Europe/London", "Europe/Dublin",
                         "Australia/Sydney", "Australia/Adelaide",  "Pacific/Chatham", "Asia/Kolkata",  "America/St_Johns",
                         "America/Santiago", "Africa/Casablanca",   "Asia/Tehran",     "Pacific/Auckland", "UTC"};
  std::mt19937_64 rng(20261127);
  std::uniform_int_distribution<std::int64_t> jitter(0, day - 1);
  for (const std::string zone : zones) {
    INFO(zone);
    const auto z = time_zone::find(zone);
    REQUIRE(z);
    int mismatches = 0;
    for (std::int64_t t = 0; t < 3155760000; t += 9 * day + jitter(rng)) {  // ~3,900 instants over 100 years
      const auto ours = z->at(t);
      const auto theirs = libc_at(zone, t);
      if (ours.utc_offset_seconds != theirs.offset || ours.abbreviation != theirs.abbreviation) {
        if (++mismatches <= 3) FAIL_CHECK("at " << t << ": " << ours.abbreviation << " " << ours.utc_offset_seconds << " vs glibc "
                                                << theirs.abbreviation << " " << theirs.offset);
      }
    }
    CHECK(mismatches == 0);
  }
  ::unsetenv("TZ");
  ::tzset();
}

TEST_CASE("only IANA-shaped names of existing zones are found", "[common][time_zone]") {
  CHECK(plausible_zone_name("America/Argentina/Buenos_Aires"));
  CHECK(plausible_zone_name("Etc/GMT+5"));
  for (const char* bad : {"", "../etc/passwd", "/etc/passwd", "America/", "America//Chicago", "Europe/../../etc/passwd",
                          "America/Chicago\n", "America/Chi cago", "-Etc"}) {
    INFO(bad);
    CHECK_FALSE(plausible_zone_name(bad));
    CHECK(time_zone::find(bad) == nullptr);
  }
  CHECK(time_zone::find("Mars/Olympus_Mons") == nullptr);  // not in the database
  CHECK(time_zone::find("America") == nullptr);            // a folder
  CHECK(time_zone::find(std::string(65, 'A')) == nullptr);
}

TEST_CASE("bytes that are not TZif are refused", "[common][time_zone]") {
  CHECK_THROWS(time_zone::parse("x", ""));
  CHECK_THROWS(time_zone::parse("x", "TZif2"));
  CHECK_THROWS(time_zone::parse("x", "#!/bin/sh\necho not a zone\n"));
  std::string header = "TZif2" + std::string(15, '\0');
  header += std::string("\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x05\0\0\0\0\0\0\0\0", 24);  // 5 transitions, no types
  CHECK_THROWS(time_zone::parse("x", header));
}

// Found by tests/fuzz/fuzz_tzif: a UTC offset of -2^31 (or days) was taken as is, and a footer
// rule evaluated at the int64 extremes overflowed (t + offset, days * 86400).
TEST_CASE("offsets stay within 26 h and the far past and future do not overflow", "[common][time_zone]") {
  auto v1 = [](std::int32_t offset) {
    std::string z = "TZif" + std::string(16, '\0');
    z += std::string("\0\0\0\0" "\0\0\0\0" "\0\0\0\0" "\0\0\0\0" "\0\0\0\x01" "\0\0\0\x04", 24);  // 1 type, 4 chars
    for (int shift = 24; shift >= 0; shift -= 8) z += static_cast<char>((static_cast<std::uint32_t>(offset) >> shift) & 0xFF);
    z += std::string("\0\0" "ABC\0", 6);
    return z;
  };
  CHECK(time_zone::parse("x", v1(-25 * 3600))->at(0).utc_offset_seconds == -25 * 3600);
  CHECK(time_zone::parse("x", v1(26 * 3600))->at(0).abbreviation == "ABC");
  CHECK_THROWS(time_zone::parse("x", v1(26 * 3600 + 1)));
  CHECK_THROWS(time_zone::parse("x", v1(INT32_MIN)));
  for (const char* name : {"America/Chicago", "Europe/London", "Australia/Lord_Howe", "America/Sao_Paulo"}) {
    INFO(name);
    const auto z = time_zone::find(name);
    REQUIRE(z);
    for (const std::int64_t t : {INT64_MIN, INT64_MIN + 86400, std::int64_t{1} << 59, INT64_MAX - 86400, INT64_MAX}) {
      const auto offset = z->at(t).utc_offset_seconds;
      CHECK(offset >= -26 * 3600);
      CHECK(offset <= 26 * 3600);
    }
  }
}

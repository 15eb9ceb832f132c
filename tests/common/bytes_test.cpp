#include "common/bytes.hpp"

#include <catch2/catch.hpp>

#include <set>
#include <string>

using cohort::common::hex;
using cohort::common::random_bytes;

TEST_CASE("hex spells every byte as two lower-case digits", "[common]") {
  CHECK(hex("").empty());
  CHECK(hex(std::string("\x00\x0f\xa0\xff", 4)) == "000fa0ff");
  CHECK(hex("Az") == "417a");
}

TEST_CASE("random_bytes gives n bytes, different every time", "[common]") {
  CHECK(random_bytes(0).empty());
  CHECK(random_bytes(16).size() == 16);
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) seen.insert(random_bytes(16));
  CHECK(seen.size() == 100);
}

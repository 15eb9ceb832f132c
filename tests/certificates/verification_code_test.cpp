#include "certificates/verification_code.hpp"

#include <catch2/catch.hpp>

#include <set>

using namespace cohort::certificates;

TEST_CASE("a code is 12 Crockford base32 characters as XXXX-XXXX-XXXX", "[certificates][code]") {
  for (int i = 0; i < 200; ++i) {
    const auto code = random_code();
    REQUIRE(code.size() == 14);
    CHECK(code[4] == '-');
    CHECK(code[9] == '-');
    for (std::size_t k = 0; k < code.size(); ++k) {
      if (k == 4 || k == 9) continue;
      INFO(code);
      CHECK(std::string_view("0123456789ABCDEFGHJKMNPQRSTVWXYZ").find(code[k]) != std::string_view::npos);
    }
    CHECK(normalize_code(code) == code);
  }
}

TEST_CASE("codes do not repeat", "[certificates][code]") {
  std::set<std::string> seen;
  for (int i = 0; i < 5000; ++i) CHECK(seen.insert(random_code()).second);
}

TEST_CASE("a typed code is normalised: case, dashes, spaces and look-alike letters", "[certificates][code]") {
  CHECK(normalize_code("7k3m-9qx2-abcd") == "7K3M-9QX2-ABCD");
  CHECK(normalize_code("7K3M9QX2ABCD") == "7K3M-9QX2-ABCD");
  CHECK(normalize_code(" 7K3M 9QX2 ABCD ") == "7K3M-9QX2-ABCD");
  CHECK(normalize_code("7K3M-9QX2-ABCD-") == "7K3M-9QX2-ABCD");
  CHECK(normalize_code("OIL0-0000-0000") == "0110-0000-0000");  // O -> 0, I and L -> 1
  CHECK_FALSE(normalize_code("7K3M-9QX2-ABC"));                 // too short
  CHECK_FALSE(normalize_code("7K3M-9QX2-ABCDE"));               // too long
  CHECK_FALSE(normalize_code("7K3M-9QX2-ABCU"));                // U is not in the alphabet
  CHECK_FALSE(normalize_code("7K3M/9QX2/ABCD"));
  CHECK_FALSE(normalize_code(""));
  CHECK_FALSE(normalize_code(std::string(100, 'A')));
}

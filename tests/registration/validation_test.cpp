#include "registration/validation.hpp"

#include <catch2/catch.hpp>

#include <string>

namespace {

using namespace cohort::registration;

}  // namespace

TEST_CASE("email_key trims and lower-cases ASCII letters", "[registration]") {
  CHECK(email_key("  Ada.Lovelace@Example.ORG \t\r\n") == std::optional<std::string>("ada.lovelace@example.org"));
  CHECK(email_key("ADA@X.ORG") == email_key("ada@x.org"));
  // non-ASCII letters are kept as typed; only ASCII is folded
  CHECK(email_key("J\xc3\x9crgen@B\xc3\xbc" "cher.DE") == std::optional<std::string>("j\xc3\x9crgen@b\xc3\xbc" "cher.de"));
}

TEST_CASE("email_key accepts plausible addresses", "[registration]") {
  for (const std::string ok : {"a@x.org", "first.last+tag@sub.example.co.uk", "o'neil@x.ie", "a_b-c@x-y.org", "1@2a.io",
                               "user@xn--bcher-kva.de", "j\xc3\xbcrgen@b\xc3\xbc" "cher.de",  // unicode domain
                               "info@\xd0\xbf\xd1\x80\xd0\xb8\xd0\xbc\xd0\xb5\xd1\x80.\xd1\x80\xd1\x84",  // пример.рф
                               "!#$%&'*+/=?^_`{|}~-@x.org"}) {
    INFO(ok);
    CHECK(email_key(ok).has_value());
  }
}

TEST_CASE("email_key rejects implausible addresses", "[registration]") {
  for (const std::string bad : {"", "   ", "a", "a@", "@x.org", "a@b", "a..b@x.org", ".a@x.org", "a.@x.org", "a@-x.org",
                                "a@x-.org", "a@x.1", "a@x.12", "a@x.o", "a@10.0.0.1", "a@x..org", "a@.x.org", "a@x.org.",
                                "a@@x.org", "a@b@x.org", "a b@x.org", "a@x y.org", "a@x_y.org", "a(b)@x.org", "\"a\"@x.org",
                                "a\n@x.org", "a@x.org\xc2\x85", "a\xff@x.org", "a\xc0\xae@x.org", "<a@x.org>"}) {
    INFO("\"" << bad << "\"");
    CHECK_FALSE(email_key(bad).has_value());
  }
}

TEST_CASE("email_key enforces the length limits", "[registration]") {
  const std::string local64(64, 'a');
  // 63 + 1 + 63 + 1 + 57 + 4 = 189 octets of domain: 64 + 1 + 189 = 254 in all
  const std::string domain189 = std::string(63, 'b') + "." + std::string(63, 'c') + "." + std::string(57, 'd') + ".org";
  const auto longest = local64 + "@" + domain189;
  REQUIRE(longest.size() == 254);
  CHECK(email_key(longest).has_value());
  CHECK(email_key("  " + longest + "  ").has_value());  // surrounding space does not count

  const auto too_long = local64 + "@" + std::string(63, 'b') + "." + std::string(63, 'c') + "." + std::string(58, 'd') + ".org";
  REQUIRE(too_long.size() == 255);
  CHECK_FALSE(email_key(too_long).has_value());

  CHECK_FALSE(email_key(std::string(65, 'a') + "@x.org").has_value());         // local part over 64
  CHECK_FALSE(email_key("a@" + std::string(64, 'b') + ".org").has_value());    // label over 63
  CHECK(email_key("a@" + std::string(63, 'b') + ".org").has_value());
}

TEST_CASE("mailable_address accepts ASCII addresses only (no SMTPUTF8)", "[registration]") {
  CHECK(mailable_address("ada@example.org"));
  CHECK(mailable_address("user@xn--bcher-kva.de"));  // an IDN domain in its ASCII form
  CHECK_FALSE(mailable_address("j\xc3\xbcrgen@example.org"));
  CHECK_FALSE(mailable_address("user@b\xc3\xbc" "cher.de"));
  CHECK_FALSE(mailable_address("info@\xd0\xbf\xd1\x80\xd0\xb8\xd0\xbc\xd0\xb5\xd1\x80.\xd1\x80\xd1\x84"));
}

#include "common/text.hpp"

#include "common/errors.hpp"

#include <catch2/catch.hpp>

#include <string>

namespace {

using namespace cohort::common;
using Catch::Matchers::Contains;

// The invalid `f` throws; fails the test when it throws nothing.
template <class F>
invalid error_of(F&& f) {
  try {
    f();
  } catch (const invalid& e) {
    return e;
  }
  FAIL("expected invalid");
  return invalid("", "");
}

}  // namespace

TEST_CASE("valid_utf8 accepts well-formed text up to U+10FFFF", "[common]") {
  for (const std::string ok : {"", "plain ASCII", "Zo\xc3\xab", "\xe6\x97\xa5\xe6\x9c\xac", "\xf0\x9f\x98\x80",
                               "\xc2\x80", "\xdf\xbf", "\xe0\xa0\x80", "\xed\x9f\xbf", "\xee\x80\x80", "\xef\xbf\xbf",
                               "\xf0\x90\x80\x80", "\xf4\x8f\xbf\xbf"}) {
    INFO(ok);
    CHECK(valid_utf8(ok));
  }
  CHECK(valid_utf8(std::string("a\0b", 3)));
}

TEST_CASE("valid_utf8 rejects overlong forms, surrogates, truncation and stray bytes", "[common]") {
  for (const std::string bad : {
           "\xc0\x80", "\xc1\xbf", "\xe0\x80\xaf", "\xe0\x9f\xbf", "\xf0\x80\x80\xaf", "\xf0\x8f\xbf\xbf",  // overlong
           "\xed\xa0\x80", "\xed\xbf\xbf", "\xed\xa0\xbd\xed\xb8\x80",                                        // surrogates
           "\xf4\x90\x80\x80", "\xf5\x80\x80\x80", "\xf8\x88\x80\x80\x80", "\xfe", "\xff",                   // beyond U+10FFFF
           "\xc3", "\xe2\x82", "\xf0\x9f\x98", "ok\xe2\x82",                                                   // truncated
           "\x80", "a\xbfz", "\xc3\x28", "\xe2\x28\xa1", "\xf0\x9f\x28\x80"}) {                               // bad continuation
    INFO(Catch::Detail::stringify(bad));
    CHECK_FALSE(valid_utf8(bad));
  }
}

TEST_CASE("utf8_length counts code points", "[common]") {
  CHECK(utf8_length("") == 0);
  CHECK(utf8_length("abc") == 3);
  CHECK(utf8_length("Zo\xc3\xab") == 3);
  CHECK(utf8_length("\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e") == 3);
  CHECK(utf8_length("\xf0\x9f\x98\x80!") == 2);
}

TEST_CASE("has_control_chars finds C0, DEL and C1 controls", "[common]") {
  for (const std::string& bad : {std::string("a\x01"), std::string("\x1f"), std::string("a\x7f" "b"), std::string("a\tb"),
                                std::string("a\nb"), std::string("a\rb"), std::string("a\0b", 3),
                                std::string("next\xc2\x85line"), std::string("\xc2\x80"), std::string("\xc2\x9f")}) {
    INFO(Catch::Detail::stringify(bad));
    CHECK(has_control_chars(bad));
  }
  for (const std::string ok : {"plain text", "Zo\xc3\xab", "\xc2\xa0nbsp", "\xc4\x85", "\xe2\x80\xa8", "\xc2"}) {
    INFO(Catch::Detail::stringify(ok));
    CHECK_FALSE(has_control_chars(ok));
  }
}

TEST_CASE("has_control_chars may allow newlines and tabs, but nothing else", "[common]") {
  CHECK_FALSE(has_control_chars("line 1\nline 2\r\n\tindented", true));
  CHECK(has_control_chars("a\x01", true));
  CHECK(has_control_chars("a\x7f", true));
  CHECK(has_control_chars("a\xc2\x85", true));
  CHECK(has_control_chars("a\x0b", true));  // vertical tab is not a newline
}

TEST_CASE("trim strips ASCII whitespace only", "[common]") {
  CHECK(trim("  a b \t\r\n") == "a b");
  CHECK(trim("") == "");
  CHECK(trim(" \t ") == "");
  CHECK(trim("\xc2\xa0x\xc2\xa0") == "\xc2\xa0x\xc2\xa0");
}

TEST_CASE("required_text trims and requires a value", "[common]") {
  CHECK(required_text("  Ada Lovelace  ", "name", 200) == "Ada Lovelace");
  for (const std::string empty : {"", "   ", "\t\n"}) {
    const auto e = error_of([&] { required_text(empty, "name", 200); });
    CHECK(e.field == "name");
    CHECK_THAT(e.what(), Contains("name"));
    CHECK_THAT(e.what(), Contains("required"));
  }
}

TEST_CASE("required_text refuses control characters and broken UTF-8", "[common]") {
  CHECK(error_of([] { required_text("Ada\nLovelace", "name", 200); }).field == "name");
  CHECK(error_of([] { required_text("Ada\xc2\x85", "name", 200); }).field == "name");
  CHECK_THAT(error_of([] { required_text("Ada\xff", "title", 200); }).what(), Contains("UTF-8"));
}

TEST_CASE("text limits count code points, not bytes", "[common]") {
  const std::string five_e = "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9";                     // 5 code points, 10 bytes
  const std::string five_emoji = "\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80";  // 20 bytes
  CHECK(required_text(five_e, "name", 5) == five_e);
  CHECK(required_text(five_emoji, "name", 5) == five_emoji);
  CHECK(required_text("abcde", "name", 5) == "abcde");
  const auto e = error_of([&] { required_text(five_e + "x", "name", 5); });
  CHECK(e.field == "name");
  CHECK_THAT(e.what(), Contains("5"));
  CHECK_THROWS_AS(required_text("abcdef", "name", 5), invalid);

  CHECK(optional_text(five_emoji, "profession", 5) == five_emoji);
  CHECK(error_of([&] { optional_text(five_emoji + "\xc3\xa9", "profession", 5); }).field == "profession");
  // surrounding whitespace is trimmed before counting
  CHECK(required_text("  abcde  ", "name", 5) == "abcde");
}

TEST_CASE("optional_text allows empty and, when asked, newlines", "[common]") {
  CHECK(optional_text("", "profession", 200) == "");
  CHECK(optional_text("   ", "profession", 200) == "");
  CHECK(optional_text("  OT  ", "profession", 200) == "OT");
  CHECK(optional_text("line 1\nline 2", "description", 5000, true) == "line 1\nline 2");
  CHECK(error_of([] { optional_text("line 1\nline 2", "profession", 200); }).field == "profession");
  CHECK(error_of([] { optional_text("bell\x07", "description", 5000, true); }).field == "description");
  CHECK(error_of([] { optional_text("\xed\xa0\x80", "description", 5000, true); }).field == "description");
}

#include "common/csv.hpp"

#include <catch2/catch.hpp>

#include <string>

namespace {

using cohort::common::append_csv_row;
using cohort::common::csv_field;

}  // namespace

TEST_CASE("csv_field quotes every value, plain ones too", "[common]") {
  CHECK(csv_field("") == "\"\"");
  CHECK(csv_field("Ada Lovelace") == "\"Ada Lovelace\"");
  CHECK(csv_field("ada@example.org") == "\"ada@example.org\"");
  CHECK(csv_field("42") == "\"42\"");
  CHECK(csv_field("it's") == "\"it's\"");
  CHECK(csv_field("a=b") == "\"a=b\"");  // a formula character inside the value is harmless
}

TEST_CASE("csv_field doubles quotes and keeps line breaks inside the quotes", "[common]") {
  CHECK(csv_field("Lovelace, Ada") == "\"Lovelace, Ada\"");
  CHECK(csv_field("say \"hi\"") == "\"say \"\"hi\"\"\"");
  CHECK(csv_field("line 1\nline 2") == "\"line 1\nline 2\"");
  CHECK(csv_field("line 1\r\nline 2") == "\"line 1\r\nline 2\"");
}

TEST_CASE("csv_field neutralises values a spreadsheet would run as a formula", "[common]") {
  CHECK(csv_field("=HYPERLINK(\"http://evil.example\")") == "\"'=HYPERLINK(\"\"http://evil.example\"\")\"");
  CHECK(csv_field("=1+1") == "\"'=1+1\"");
  CHECK(csv_field("+1") == "\"'+1\"");
  CHECK(csv_field("-1") == "\"'-1\"");
  CHECK(csv_field("@SUM(A1:A2)") == "\"'@SUM(A1:A2)\"");
  CHECK(csv_field("\t=1") == "\"'\t=1\"");
  CHECK(csv_field("\r=1") == "\"'\r=1\"");
  CHECK(csv_field("=cmd|' /C calc'!A0,x") == "\"'=cmd|' /C calc'!A0,x\"");
}

TEST_CASE("csv_field looks past leading spaces and quotes for a formula", "[common]") {
  // Spreadsheets skip these before they decide a cell is a formula.
  CHECK(csv_field(" =1+1") == "\"' =1+1\"");
  CHECK(csv_field("   @SUM(A1)") == "\"'   @SUM(A1)\"");
  CHECK(csv_field("\"=HYPERLINK(\"\"x\"\")\"") == "\"'\"\"=HYPERLINK(\"\"\"\"x\"\"\"\")\"\"\"");
  CHECK(csv_field("'-2") == "\"''-2\"");
  CHECK(csv_field(" \" +cmd") == "\"' \"\" +cmd\"");
  CHECK(csv_field("  \t") == "\"'  \t\"");
  CHECK(csv_field("   ") == "\"   \"");
  CHECK(csv_field(" a-b") == "\" a-b\"");
}

TEST_CASE("csv_field keeps UTF-8 intact", "[common]") {
  const std::string name = "Zo\xc3\xab \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80";
  CHECK(csv_field(name) == "\"" + name + "\"");
  CHECK(csv_field(name + ",") == "\"" + name + ",\"");
}

TEST_CASE("append_csv_row joins fields with commas and ends with CRLF", "[common]") {
  std::string out;
  append_csv_row(out, {"id", "name", "email"});
  append_csv_row(out, {"1", "Lovelace, Ada", "=evil()"});
  append_csv_row(out, {});
  append_csv_row(out, {"", ""});
  CHECK(out == "\"id\",\"name\",\"email\"\r\n\"1\",\"Lovelace, Ada\",\"'=evil()\"\r\n\r\n\"\",\"\"\r\n");
}

#include "gateway/static_site.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace {

using cohort::http::layout_error;
using cohort::http::render_page;

constexpr std::string_view layout =
    "<head>\n"
    "  {{meta?}}\n"
    "  <title>{{title}}</title>\n"
    "</head>\n"
    "<header>H</header>\n"
    "<main>\n"
    "    {{main}}\n"
    "</main>\n";

std::size_t count(std::string_view text, std::string_view what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string_view::npos; at = text.find(what, at + what.size())) ++n;
  return n;
}

std::string read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE(in);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

TEST_CASE("render_page puts each slot where the layout names it", "[gateway][layout]") {
  const std::string page =
      "<!-- cohort:layout -->\n"
      "<!-- slot title -->Room — Cohort\n"
      "<!-- slot meta -->\n"
      "  <meta name=\"referrer\" content=\"no-referrer\">\n"
      "<!-- slot main -->\n"
      "    <p>one</p>\n"
      "    <p>two</p>\n";
  CHECK(render_page(layout, page) ==
        "<head>\n"
        "  <meta name=\"referrer\" content=\"no-referrer\">\n"
        "  <title>Room — Cohort</title>\n"
        "</head>\n"
        "<header>H</header>\n"
        "<main>\n"
        "    <p>one</p>\n"
        "    <p>two</p>\n"
        "</main>\n");
}

TEST_CASE("render_page leaves out the line of an optional slot the page does not fill", "[gateway][layout]") {
  const auto html = render_page(layout, "<!-- cohort:layout -->\n<!-- slot title -->T\n<!-- slot main -->M\n");
  CHECK(html == "<head>\n  <title>T</title>\n</head>\n<header>H</header>\n<main>\n    M\n</main>\n");
  CHECK(html.find("{{") == std::string::npos);
}

TEST_CASE("render_page returns a page without the declaration unchanged", "[gateway][layout]") {
  const std::string page = "<!doctype html>\n<title>{{title}}</title>\n<!-- slot main -->\n";
  CHECK(render_page(layout, page) == page);
}

TEST_CASE("render_page refuses a page that does not fit the layout, naming the slot", "[gateway][layout]") {
  using Catch::Matchers::Contains;
  CHECK_THROWS_WITH(render_page(layout, "<!-- cohort:layout -->\n<!-- slot main -->M\n"), Contains("\"title\""));
  CHECK_THROWS_WITH(render_page(layout, "<!-- cohort:layout -->\n<!-- slot title -->T\n<!-- slot main -->M\n<!-- slot footre -->F\n"),
                    Contains("\"footre\""));
  CHECK_THROWS_WITH(render_page(layout, "<!-- cohort:layout -->\n<!-- slot title -->T\n<!-- slot title -->U\n<!-- slot main -->M\n"),
                    Contains("twice"));
  CHECK_THROWS_WITH(render_page(layout, "<!-- cohort:layout -->\n<p>stray</p>\n<!-- slot title -->T\n<!-- slot main -->M\n"),
                    Contains("before the first slot"));
  CHECK_THROWS_AS(render_page(layout, "<!-- cohort:layout -->\n<!-- slot Title -->T\n"), layout_error);
  CHECK_THROWS_AS(render_page("<title>{{title</title>", "<!-- cohort:layout -->\n<!-- slot title -->T\n"), layout_error);
}

TEST_CASE("every page in web/ renders into web/layout.html with one header and one footer", "[gateway][layout]") {
  const char* source = std::getenv("COHORT_SOURCE_DIR");
  REQUIRE(source);
  const std::string web = std::string(source) + "/web/";
  const auto shared = read(web + "layout.html");
  for (const char* name : {"index.html", "register.html", "live.html", "materials.html", "certificate.html",
                           "unsubscribe.html", "console.html", "ce-test.html"}) {
    INFO(name);
    const auto page = read(web + name);
    REQUIRE(cohort::http::uses_layout(page));
    const auto html = render_page(shared, page);
    CHECK(count(html, "<!doctype html>") == 1);
    CHECK(count(html, "<header class=\"site-header\">") == 1);
    CHECK(count(html, "<footer class=\"site-footer\">") == 1);
    CHECK(count(html, "<title>") == 1);
    CHECK(count(html, "<main id=\"main\"") == 1);
    CHECK(count(html, "{{") == 0);
    CHECK(count(html, "<!-- slot") == 0);
    CHECK(count(html, "<!-- cohort:layout") == 0);
    CHECK(count(html, "<script type=\"module\" src=\"/assets/") == 1);
  }
}

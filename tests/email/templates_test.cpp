#include "email/templates.hpp"

#include <catch2/catch.hpp>

#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace {

using namespace cohort::email;
namespace fs = std::filesystem;

fs::path shipped_templates() {
  const char* dir = std::getenv("COHORT_SOURCE_DIR");
  // ctest sets COHORT_SOURCE_DIR; run by hand, the source tree is where this file is.
  const fs::path root = dir ? fs::path(dir) : fs::path(__FILE__).parent_path().parent_path().parent_path();
  return root / "config" / "email";
}

// Every variable a template may use, with a value that shows escaping.
template_vars all_variables() {
  return {{"name", "Maya <O'Brien> & Co"},
          {"webinar_title", "Infant massage"},
          {"sessions", "Session 1: Thu 15 Jan 2026, 10:00 UTC\nSession 2: Thu 22 Jan 2026, 10:00 UTC"},
          {"join_url", "https://cohort.example.org/join?token=a&b=c"},
          {"cancel_url", "https://cohort.example.org/join?token=a&cancel=1"},
          {"unsubscribe_url", "https://cohort.example.org/unsubscribe?t=x"},
          {"session_number", "3"},
          {"session_start", "Thu 15 Jan 2026, 10:00 UTC"},
          {"starts_in", "24 hours"},
          {"drop_title", "Week 1 worksheet"},
          {"drop_body", "Print it before the session."},
          {"materials_url", "https://cohort.example.org/live/1#drops"},
          {"confirm_url", "https://cohort.example.org/w/1#confirm=a&b"},
          {"expires_in", "24 hours"},
          {"session_title", "Session 2: Feeding cues"},
          {"credit", "Live"},
          {"hours", "1.5"},
          {"ceus", "0.15"},
          {"code", "7K3M-9QX2-ABCD"},
          {"ce_url", "https://cohort.example.org/ce/1#token=a"},
          {"verify_url", "https://cohort.example.org/verify/7K3M-9QX2-ABCD"}};
}

// A copy of the shipped templates in a temporary directory, to break one on purpose.
class template_copy {
 public:
  template_copy()
      : dir_(fs::temp_directory_path() / ("cohort-templates-" + std::to_string(::getpid()) + "-" +
                                          std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()))) {
    fs::create_directories(dir_);
    for (const auto& e : fs::directory_iterator(shipped_templates())) fs::copy_file(e.path(), dir_ / e.path().filename());
  }
  ~template_copy() {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  const fs::path& dir() const { return dir_; }
  void write(const std::string& name, const std::string& content) const {
    std::ofstream(dir_ / name, std::ios::binary | std::ios::trunc) << content;
  }

 private:
  fs::path dir_;
};

}  // namespace

TEST_CASE("substitute replaces {{name}}, escapes for HTML only, reports missing variables", "[email][templates]") {
  const template_vars vars{{"name", "<b>Maya</b> & \"Co\""}, {"n", "3"}};
  std::vector<std::string> missing;
  CHECK(substitute("Hi {{name}}, {{ n }}!", vars, false, &missing) == "Hi <b>Maya</b> & \"Co\", 3!");
  CHECK(substitute("Hi {{name}}", vars, true, &missing) == "Hi &lt;b&gt;Maya&lt;/b&gt; &amp; &quot;Co&quot;");
  CHECK(missing.empty());
  CHECK(substitute("[{{nope}}]", vars, false, &missing) == "[]");
  CHECK(missing == std::vector<std::string>{"nope"});
  // Not a placeholder: left as written.
  CHECK(substitute("{{ two words }} {{}} {{name} {{Name}} {{", vars, false) == "{{ two words }} {{}} {{name} {{Name}} {{");
  // A value is inserted once, never read as a template itself.
  CHECK(substitute("{{name}}", {{"name", "{{n}}"}}, false) == "{{n}}");
  CHECK(variables_in("{{a}} {{b}} {{ a }}") == std::vector<std::string>{"a", "b"});
  CHECK(html_escape("'") == "&#39;");
}

TEST_CASE("every shipped template loads and renders with no missing variable", "[email][templates]") {
  const auto set = template_set::load(shipped_templates());
  for (const auto name : template_names) {
    INFO(name);
    template_vars vars;
    for (const auto var : template_variables(name)) vars.emplace(std::string(var), all_variables().at(std::string(var)));
    const auto out = set.render(name, vars);
    CHECK(out.missing.empty());
    CHECK_FALSE(out.subject.empty());
    CHECK(out.subject.find('\n') == std::string::npos);
    CHECK(out.subject.find("{{") == std::string::npos);
    CHECK(out.text.find("{{") == std::string::npos);
    CHECK(out.html.find("{{") == std::string::npos);
    CHECK(out.text.rfind("Hi Maya <O'Brien> & Co,", 0) == 0);  // the subject line is not in the body
    CHECK(out.html.find("Maya &lt;O&#39;Brien&gt; &amp; Co") != std::string::npos);
    CHECK(out.html.find("<O'Brien>") == std::string::npos);
    // Every message offers the one-click unsubscribe link in both parts, but the last one of a
    // deleted series (nothing is left to unsubscribe from).
    if (name == "series_cancelled" || name == "confirm_request") continue;
    CHECK(out.text.find("https://cohort.example.org/unsubscribe?t=x") != std::string::npos);
    CHECK(out.html.find("https://cohort.example.org/unsubscribe?t=x") != std::string::npos);
  }
}

TEST_CASE("the templates carry what each message is for", "[email][templates]") {
  const auto set = template_set::load(shipped_templates());
  const auto vars = all_variables();
  const auto confirmation = set.render("confirmation", vars);
  CHECK(confirmation.subject == "You're registered: Infant massage");
  CHECK(confirmation.text.find("https://cohort.example.org/join?token=a&b=c") != std::string::npos);
  CHECK(confirmation.html.find("https://cohort.example.org/join?token=a&amp;b=c") != std::string::npos);
  const auto reminder = set.render("reminder", vars);
  CHECK(reminder.subject == "Starts in 24 hours: Infant massage, session 3");
  const auto drop = set.render("drop", vars);
  CHECK(drop.text.find("https://cohort.example.org/live/1#drops") != std::string::npos);
  CHECK(drop.html.find("Week 1 worksheet") != std::string::npos);
  CHECK_THROWS_AS(set.render("newsletter", vars), template_error);
}

TEST_CASE("load refuses a broken template directory, naming the file", "[email][templates]") {
  template_copy copy;
  SECTION("an edited template loads with the edit") {
    copy.write("drop.txt", "Subject: Fresh: {{drop_title}}\r\n\r\nHello {{name}}\r\n");
    const auto out = template_set::load(copy.dir()).render("drop", all_variables());
    CHECK(out.subject == "Fresh: Week 1 worksheet");
    CHECK(out.text == "Hello Maya <O'Brien> & Co\n");
  }
  SECTION("a typo in a variable name") {
    copy.write("reminder.html", "<p>{{nmae}}</p>");
    try {
      template_set::load(copy.dir());
      FAIL("loaded a template with an unknown variable");
    } catch (const template_error& e) {
      CHECK_THAT(e.what(), Catch::Matchers::Contains("reminder.html") && Catch::Matchers::Contains("{{nmae}}"));
    }
  }
  SECTION("a variable of another template") {
    copy.write("cancelled.txt", "Subject: x\n\n{{join_url}}");
    CHECK_THROWS_WITH(template_set::load(copy.dir()), Catch::Matchers::Contains("cancelled.txt"));
  }
  SECTION("no subject line") {
    copy.write("promoted.txt", "Hello {{name}}");
    CHECK_THROWS_WITH(template_set::load(copy.dir()), Catch::Matchers::Contains("promoted.txt") &&
                                                          Catch::Matchers::Contains("Subject:"));
  }
  SECTION("a missing file") {
    fs::remove(copy.dir() / "waitlisted.html");
    CHECK_THROWS_WITH(template_set::load(copy.dir()), Catch::Matchers::Contains("waitlisted.html"));
  }
}

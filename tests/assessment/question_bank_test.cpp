#include "assessment/question_bank.hpp"

#include "common/errors.hpp"

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include <map>

using namespace cohort::assessment;
namespace json = boost::json;

namespace {

json::object body(const char* text) { return json::parse(text).as_object(); }

std::string field_of(const json::object& b) {
  try {
    parse_bank(b);
  } catch (const cohort::common::invalid& e) {
    return e.field;
  }
  return "(accepted)";
}

std::vector<question> sample_bank() {
  return parse_bank(body(R"({"questions": [
    {"kind": "single", "prompt": "Q1", "options": ["a", "b", "c"], "correct": [1]},
    {"kind": "multiple", "prompt": "Q2", "options": ["w", "x", "y", "z"], "correct": [0, 2]},
    {"kind": "single", "prompt": "Q3", "options": ["yes", "no"], "correct": [0]},
    {"kind": "multiple", "prompt": "Q4", "options": ["1", "2", "3", "4", "5", "6", "7", "8"], "correct": [7]}]})"));
}

std::vector<shown_question> with_ids(std::vector<question> bank) {
  for (std::size_t i = 0; i < bank.size(); ++i) bank[i].id = static_cast<std::int64_t>(100 + i);
  std::mt19937_64 rng(7);
  return make_shown(bank, false, rng);
}

}  // namespace

TEST_CASE("a valid bank parses in order with its correct sets", "[assessment]") {
  const auto bank = sample_bank();
  REQUIRE(bank.size() == 4);
  CHECK(bank[1].kind == "multiple");
  CHECK(bank[1].correct == std::vector<int>{0, 2});
  CHECK(parse_bank(body(R"({"questions": []})")).empty());
}

TEST_CASE("bank validation names the field at fault", "[assessment]") {
  CHECK(field_of(body(R"({"questions": 3})")) == "questions");
  CHECK(field_of(body(R"({"questions": [{"kind": "single", "prompt": "Q", "options": ["a", "b"], "correct": [0, 1]}]})")) ==
        "questions[0].correct");
  CHECK(field_of(body(R"({"questions": [{"kind": "multiple", "prompt": "Q", "options": ["a", "b"], "correct": []}]})")) ==
        "questions[0].correct");
  CHECK(field_of(body(R"({"questions": [{"kind": "single", "prompt": "Q", "options": ["a", "b"], "correct": [2]}]})")) ==
        "questions[0].correct");
  CHECK(field_of(body(R"({"questions": [{"kind": "single", "prompt": "Q", "options": ["a", "b"], "correct": [0]},
                                        {"kind": "single", "prompt": "Q", "options": ["a"], "correct": [0]}]})")) ==
        "questions[1].options");
  CHECK(field_of(body(R"({"questions": [{"kind": "essay", "prompt": "Q", "options": ["a", "b"], "correct": [0]}]})")) ==
        "questions[0].kind");
  CHECK(field_of(body(R"({"questions": [{"kind": "single", "prompt": " ", "options": ["a", "b"], "correct": [0]}]})")) ==
        "questions[0].prompt");
  CHECK(field_of(body(R"({"questions": [{"kind": "single", "prompt": "Q", "options": ["a", ""], "correct": [0]}]})")) ==
        "questions[0].options[1]");

  json::object long_prompt = body(R"({"questions": [{"kind": "single", "prompt": "", "options": ["a", "b"], "correct": [0]}]})");
  long_prompt["questions"].as_array()[0].as_object()["prompt"] = std::string(1001, 'p');
  CHECK(field_of(long_prompt) == "questions[0].prompt");
  long_prompt["questions"].as_array()[0].as_object()["prompt"] = std::string(1000, 'p');
  CHECK(field_of(long_prompt) == "(accepted)");
  long_prompt["questions"].as_array()[0].as_object()["options"].as_array()[1] = std::string(301, 'o');
  CHECK(field_of(long_prompt) == "questions[0].options[1]");

  json::array many;
  for (int i = 0; i < 51; ++i) many.push_back(json::parse(R"({"kind": "single", "prompt": "Q", "options": ["a", "b"], "correct": [0]})"));
  CHECK(field_of(json::object{{"questions", many}}) == "questions");
  many.pop_back();
  CHECK(field_of(json::object{{"questions", many}}) == "(accepted)");
}

TEST_CASE("a shuffle reorders questions and options but every id keeps its text and its correctness", "[assessment]") {
  auto bank = sample_bank();
  for (std::size_t i = 0; i < bank.size(); ++i) bank[i].id = static_cast<std::int64_t>(100 + i);
  bool some_order_changed = false;
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    std::mt19937_64 rng(seed);
    const auto shown = load_shown(store_shown(make_shown(bank, true, rng)));
    REQUIRE(shown.size() == bank.size());
    for (std::size_t i = 0; i < shown.size(); ++i) {
      const auto& q = shown[i];
      const auto& original = bank[static_cast<std::size_t>(q.id - 100)];
      if (q.id != static_cast<std::int64_t>(100 + i)) some_order_changed = true;
      REQUIRE(q.options.size() == original.options.size());
      for (std::size_t j = 0; j < q.options.size(); ++j) {
        CHECK(q.options[j].text == original.options[static_cast<std::size_t>(q.options[j].id)]);
        if (q.options[j].id != static_cast<int>(j)) some_order_changed = true;
      }
      CHECK(std::vector<int>(q.correct.begin(), q.correct.end()) == original.correct);
    }
  }
  CHECK(some_order_changed);
  std::mt19937_64 rng(1);
  const auto plain = make_shown(bank, false, rng);
  for (std::size_t i = 0; i < plain.size(); ++i) CHECK(plain[i].id == static_cast<std::int64_t>(100 + i));
}

TEST_CASE("what a registrant sees carries no correct sets", "[assessment]") {
  const auto text = json::serialize(registrant_json(with_ids(sample_bank())));
  CHECK(text.find("correct") == std::string::npos);
  CHECK(text.find("\"Q2\"") != std::string::npos);
}

TEST_CASE("grading: right iff the chosen set equals the correct set; the score rounds", "[assessment]") {
  const auto shown = with_ids(sample_bank());
  auto grade_of = [&](const char* answers) { return grade_answers(shown, parse_answers(body(answers), shown)); };
  auto all = grade_of(R"({"answers": {"100": [1], "101": [2, 0], "102": [0], "103": [7]}})");
  CHECK((all.right == 4 && all.total == 4 && all.score_percent == 100));
  auto partial_multiple = grade_of(R"({"answers": {"100": [1], "101": [0], "102": [0], "103": [7]}})");
  CHECK(partial_multiple.right == 3);
  CHECK(partial_multiple.score_percent == 75);
  auto extra = grade_of(R"({"answers": {"101": [0, 1, 2]}})");
  CHECK(extra.right == 0);
  CHECK(grade_of(R"({"answers": {}})").score_percent == 0);

  std::vector<shown_question> three(shown.begin(), shown.begin() + 3);
  CHECK(grade_answers(three, parse_answers(body(R"({"answers": {"100": [1]}})"), three)).score_percent == 33);
  CHECK(grade_answers(three, parse_answers(body(R"({"answers": {"100": [1], "102": [0]}})"), three)).score_percent == 67);
}

TEST_CASE("answers naming unknown questions or options, or two choices for one, are refused", "[assessment]") {
  const auto shown = with_ids(sample_bank());
  auto field = [&](const char* answers) -> std::string {
    try {
      parse_answers(body(answers), shown);
    } catch (const cohort::common::invalid& e) {
      return e.field;
    }
    return "(accepted)";
  };
  CHECK(field(R"({"answers": {"999": [0]}})") == "answers.999");
  CHECK(field(R"({"answers": {"abc": [0]}})") == "answers.abc");
  CHECK(field(R"({"answers": {"100": [3]}})") == "answers.100");
  CHECK(field(R"({"answers": {"100": [0, 1]}})") == "answers.100");
  CHECK(field(R"({"answers": {"100": "1"}})") == "answers.100");
  CHECK(field(R"({"answers": []})") == "answers");
  CHECK(field(R"({"answers": {"101": [0, 1, 1]}})") == "(accepted)");
}

#include "registration/registration_questions.hpp"

#include "common/errors.hpp"

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include <string>

namespace {

namespace json = boost::json;
using namespace cohort::registration;

std::vector<question> questions(const char* text) {
  const auto v = json::parse(text);
  return read_questions(&v);
}

// The field a refusal names ("" when nothing was refused).
template <class F>
std::string refused_field(F f) {
  try {
    f();
  } catch (const cohort::common::invalid& e) {
    return e.field;
  }
  return "";
}

std::string refused_list(const char* text) {
  return refused_field([&] { questions(text); });
}

std::vector<question> stored(std::vector<question> qs) {
  std::int64_t id = 0;
  for (auto& q : qs) {
    q.id = ++id;
    if (q.key.empty()) q.key = "q" + std::to_string(q.id);
  }
  return qs;
}

std::string refused_answers(const std::vector<question>& qs, const char* text) {
  const auto v = json::parse(text);
  return refused_field([&] { read_answers(qs, &v); });
}

}  // namespace

TEST_CASE("presets fill key, label, kind and options; a label may be changed", "[registration]") {
  const auto qs = questions(R"([{"preset":"license_number","required":true},{"preset":"discipline","label":"Profession"},
                                {"key":"state"},{"label":"Notes"}])");
  REQUIRE(qs.size() == 4);
  CHECK(qs[0].key == "license_number");
  CHECK(qs[0].label == "License number");
  CHECK(qs[0].kind == "text");
  CHECK(qs[0].required);
  CHECK(qs[1].label == "Profession");
  CHECK(qs[1].options == std::vector<std::string>{"OT", "OTA", "PT", "PTA", "SLP", "Other"});
  CHECK(qs[2].label == "State or province of licensure");
  CHECK(qs[3].key.empty());
  CHECK(qs[3].kind == "text");
  CHECK_FALSE(qs[3].required);
}

TEST_CASE("a preset's kind and options cannot be changed", "[registration]") {
  const auto qs = questions(R"([{"preset":"discipline","kind":"text","options":["a","b"]}])");
  CHECK(qs[0].kind == "choice");
  CHECK(qs[0].options.size() == 6);
}

TEST_CASE("question lists are refused with the field at fault", "[registration]") {
  CHECK(refused_list(R"({"a":1})") == "questions");
  std::string many = "[";
  for (int i = 0; i < 21; ++i) many += std::string(i ? "," : "") + R"({"label":"Q"})";
  CHECK(refused_list((many + "]").c_str()) == "questions");
  CHECK(refused_list(R"([{"label":" "}])") == "questions[0].label");
  CHECK(refused_list(("[{\"label\":\"" + std::string(201, 'x') + "\"}]").c_str()) == "questions[0].label");
  CHECK(refused_list(("[{\"label\":\"" + std::string(200, 'x') + "\"}]").c_str()).empty());
  CHECK(refused_list(R"([{"label":"A","kind":"choice","options":["one"]}])") == "questions[0].options");
  CHECK(refused_list(R"([{"label":"A","kind":"choice","options":["one","one"]}])") == "questions[0].options[1]");
  CHECK(refused_list(R"([{"label":"A","kind":"choice","options":["one",""]}])") == "questions[0].options[1]");
  CHECK(refused_list(R"([{"label":"A","kind":"radio"}])") == "questions[0].kind");
  CHECK(refused_list(R"([{"label":"A","required":"yes"}])") == "questions[0].required");
  CHECK(refused_list(R"([{"preset":"nope"}])") == "questions[0].preset");
  CHECK(refused_list(R"([{"preset":"state","key":"province"}])") == "questions[0].key");
  CHECK(refused_list(R"([{"key":"9lives","label":"A"}])") == "questions[0].key");
  CHECK(refused_list(R"([{"key":"x","label":"A"},{"key":"x","label":"B"}])") == "questions[1].key");
  CHECK(refused_list(R"([{"preset":"state"},{"key":"state","label":"B"}])") == "questions[1].key");
}

TEST_CASE("answers are checked against the questions", "[registration]") {
  const auto qs = stored(questions(R"([{"preset":"license_number","required":true},{"preset":"discipline"},
                                       {"label":"Consent to photos","kind":"checkbox","required":true},
                                       {"label":"Newsletter","kind":"checkbox"}])"));
  CHECK(refused_answers(qs, R"({"discipline":"OT","q3":true})") == "answers.license_number");
  CHECK(refused_answers(qs, R"({"license_number":"  ","q3":true})") == "answers.license_number");
  CHECK(refused_answers(qs, R"({"license_number":"A1","q3":false})") == "answers.q3");
  CHECK(refused_answers(qs, R"({"license_number":"A1","q3":1})") == "answers.q3");
  CHECK(refused_answers(qs, R"({"license_number":"A1","q3":true,"discipline":"ot"})") == "answers.discipline");
  CHECK(refused_answers(qs, R"({"license_number":"A1","q3":true,"other":"x"})") == "answers.other");
  CHECK(refused_answers(qs, R"({"license_number":"A\u0007","q3":true})") == "answers.license_number");
  CHECK(refused_answers(qs, R"(["x"])") == "answers");

  const auto v = json::parse(R"({"license_number":"  OT 1 ","discipline":"SLP","q3":true,"q4":false})");
  const auto got = read_answers(qs, &v);
  REQUIRE(got.size() == 4);
  CHECK(got[0].question_id == 1);
  CHECK(got[0].value == "OT 1");
  CHECK(got[1].value == "SLP");
  CHECK(got[2].value == "true");
  CHECK(got[3].value == "false");
  CHECK(answer_cell(qs[3], got[3].value) == "no");
  CHECK(answer_value_json(qs[2], got[2].value) == json::value(true));

  const std::vector<question> none;
  CHECK(read_answers(none, nullptr).empty());
  const json::value null_answers;
  CHECK(read_answers(none, &null_answers).empty());
}

TEST_CASE("a text answer is at most 200 characters", "[registration]") {
  const auto qs = stored(questions(R"([{"label":"Notes"}])"));
  const auto ok = json::value{{"q1", std::string(200, 'x')}};
  CHECK(read_answers(qs, &ok).size() == 1);
  const auto long_one = json::value{{"q1", std::string(201, 'x')}};
  CHECK_THROWS_AS(read_answers(qs, &long_one), cohort::common::invalid);
}

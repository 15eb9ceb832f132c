// The post-test as pure data, no database: the organizer's question bank (validated from JSON),
// an attempt's questions as shown to one registrant (shuffled, with stable ids, and the correct
// sets kept beside them on the server), and grading. The correct sets leave this layer only in
// the organizer's view and in ce_attempts.shown; registrant_json drops them.
#pragma once

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <cstdint>
#include <random>
#include <set>
#include <string>
#include <vector>

namespace cohort::assessment {

inline constexpr std::size_t max_questions = 50;
inline constexpr std::size_t min_options = 2, max_options = 8;
inline constexpr std::size_t max_prompt_chars = 1000, max_option_chars = 300;

struct question {
  std::int64_t id = 0;  // ce_questions.id; 0 before it is stored
  std::string kind;     // "single" | "multiple"
  std::string prompt;
  std::vector<std::string> options;
  std::vector<int> correct;  // option indexes, ascending
};

// {questions: [{kind, prompt, options: [..], correct: [..]}]} -> the bank, in order. Throws
// common::invalid with a field such as "questions[3].correct".
std::vector<question> parse_bank(const boost::json::object& body);
boost::json::object organizer_json(const question& q);  // with `correct`

// One option as shown: its id is its index in the bank, whatever position the shuffle gave it.
struct shown_option {
  int id = 0;
  std::string text;
};
struct shown_question {
  std::int64_t id = 0;
  std::string kind;
  std::string prompt;
  std::vector<shown_option> options;
  std::set<int> correct;  // option ids; never sent to a registrant
};

// The attempt's questions: in bank order, or (shuffle) questions and each question's options in
// a random order drawn from `rng`.
std::vector<shown_question> make_shown(const std::vector<question>& bank, bool shuffle, std::mt19937_64& rng);
// ce_attempts.shown, with the correct sets, and back.
std::string store_shown(const std::vector<shown_question>& shown);
std::vector<shown_question> load_shown(const std::string& stored);
// What a registrant sees: ids, kinds, prompts and option texts, no correct sets.
boost::json::array registrant_json(const std::vector<shown_question>& shown);

// question id -> the chosen option ids. Unanswered questions are simply absent.
using answer_sheet = std::vector<std::pair<std::int64_t, std::set<int>>>;
// {answers: {"<question id>": [option id, ...]}} checked against the attempt: unknown questions or
// options, or more than one choice for a single-choice question, throw common::invalid
// ("answers.<question id>").
answer_sheet parse_answers(const boost::json::object& body, const std::vector<shown_question>& shown);
boost::json::object answers_json(const answer_sheet& answers);

struct grade {
  int right = 0;
  int total = 0;
  int score_percent = 0;  // round(100 * right / total), halves up; 0 for an empty test
};
// A question is right iff the chosen set equals the correct set (unanswered is wrong).
grade grade_answers(const std::vector<shown_question>& shown, const answer_sheet& answers);

}  // namespace cohort::assessment

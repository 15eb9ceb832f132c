// The organizer's signup questions (per series) and the answers a registrant gives: what a
// question may be, how an organizer's list and a signup's answers are read and checked, and how
// both are shown. Pure: no SQL, no I/O (question_store.hpp keeps them). Errors are
// common::invalid naming the field at fault ("questions[2].label", "answers.license_number").
//
// Keys are the contract with the CE slices: the presets license_number, state and discipline
// (the certificate prints license_number); a custom question is q<row id> unless the organizer
// names it ([a-z][a-z0-9_]*, at most 40).
#pragma once

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace cohort::registration {

struct question {
  std::int64_t id = 0;        // 0: not stored yet
  std::string key;            // empty: a new custom question (the store names it q<id>)
  std::string label;
  std::string kind;           // text | choice | checkbox
  std::vector<std::string> options;  // choice only
  bool required = false;
};

// One stored answer: text trimmed, a choice's option, a checkbox "true" / "false".
struct answer {
  std::int64_t question_id = 0;
  std::string value;
};

inline constexpr std::size_t questions_max = 20;
inline constexpr std::size_t label_max_chars = 200;
inline constexpr std::size_t options_min = 2;
inline constexpr std::size_t options_max = 30;
inline constexpr std::size_t option_max_chars = 100;
inline constexpr std::size_t answer_max_chars = 200;

// The preset of that name (license_number, state, discipline) with its label, kind and options;
// false when there is none.
bool preset_question(std::string_view name, question& out);

// The organizer's {questions: [...]} list, checked: at most 20; each {key?, preset?, label, kind,
// options, required}; a preset (or a key naming one) fixes kind and options, and gives the label
// when none is sent; keys unique. Throws common::invalid("questions[i].<member>").
std::vector<question> read_questions(const boost::json::value* list);

// A signup's `answers` object (may be null or absent: no answers) against the series' questions.
// Throws common::invalid("answers.<key>") for an unknown key, a required question left empty (a
// required checkbox must be true), text over 200 characters or with control characters, a choice
// not among the options, a checkbox that is not true/false; ("answers") when it is not an object.
std::vector<answer> read_answers(const std::vector<question>& questions, const boost::json::value* answers);

// {key, label, kind, options, required}: what the signup form needs (no ids).
boost::json::array questions_json(const std::vector<question>& questions);
// An answer as JSON: a checkbox's is a boolean, the others a string.
boost::json::value answer_value_json(const question& q, std::string_view stored);
// [{key, label, value}] in the questions' order, for the answered ones (question id -> stored).
boost::json::array answers_json(const std::vector<question>& questions, const std::map<std::int64_t, std::string>& stored);
// An answer as a CSV cell: a checkbox's is yes / no.
std::string answer_cell(const question& q, std::string_view stored);

}  // namespace cohort::registration

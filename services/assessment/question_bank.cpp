#include "assessment/question_bank.hpp"

#include "common/errors.hpp"
#include "common/text.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <charconv>

namespace cohort::assessment {
namespace json = boost::json;

namespace {

const json::value* member(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v && !v->is_null() ? v : nullptr;
}

std::string text_of(const json::value* v, const std::string& field, std::size_t max_chars) {
  if (!v || !v->is_string()) throw common::invalid(field, field + " must be text");
  return common::required_text(std::string_view(v->get_string()), field, max_chars);
}

question parse_question(const json::value& v, const std::string& at) {
  if (!v.is_object()) throw common::invalid(at, at + " must be an object");
  const auto& o = v.get_object();
  question q;
  const auto* kind = member(o, "kind");
  if (!kind || !kind->is_string() || (kind->get_string() != "single" && kind->get_string() != "multiple"))
    throw common::invalid(at + ".kind", at + ".kind must be \"single\" or \"multiple\"");
  q.kind = std::string(kind->get_string());
  q.prompt = text_of(member(o, "prompt"), at + ".prompt", max_prompt_chars);

  const auto* options = member(o, "options");
  if (!options || !options->is_array() || options->get_array().size() < min_options || options->get_array().size() > max_options)
    throw common::invalid(at + ".options", at + ".options must list 2 to 8 answers");
  for (std::size_t i = 0; i < options->get_array().size(); ++i)
    q.options.push_back(text_of(&options->get_array()[i], at + ".options[" + std::to_string(i) + "]", max_option_chars));

  const auto field = at + ".correct";
  const auto* correct = member(o, "correct");
  if (!correct || !correct->is_array()) throw common::invalid(field, field + " must list the indexes of the right answers");
  std::set<int> marked;
  for (const auto& c : correct->get_array()) {
    if (!c.is_int64() || c.get_int64() < 0 || c.get_int64() >= static_cast<std::int64_t>(q.options.size()))
      throw common::invalid(field, field + " must hold option indexes from 0 to " + std::to_string(q.options.size() - 1));
    if (!marked.insert(static_cast<int>(c.get_int64())).second) throw common::invalid(field, field + " lists an answer twice");
  }
  if (q.kind == "single" && marked.size() != 1)
    throw common::invalid(field, field + ": a single-choice question has exactly one right answer");
  if (q.kind == "multiple" && marked.empty())
    throw common::invalid(field, field + ": a multiple-choice question needs at least one right answer");
  q.correct.assign(marked.begin(), marked.end());
  return q;
}

std::vector<int> int_list(const json::value& v) {
  std::vector<int> out;
  for (const auto& x : v.as_array()) out.push_back(static_cast<int>(x.as_int64()));
  return out;
}

}  // namespace

std::vector<question> parse_bank(const json::object& body) {
  const auto* questions = member(body, "questions");
  if (!questions || !questions->is_array()) throw common::invalid("questions", "questions must be a list");
  const auto& list = questions->get_array();
  if (list.size() > max_questions) throw common::invalid("questions", "a post-test has at most 50 questions");
  std::vector<question> bank;
  for (std::size_t i = 0; i < list.size(); ++i) bank.push_back(parse_question(list[i], "questions[" + std::to_string(i) + "]"));
  return bank;
}

json::object organizer_json(const question& q) {
  json::array options, correct;
  for (const auto& o : q.options) options.emplace_back(o);
  for (int c : q.correct) correct.emplace_back(c);
  return {{"id", q.id}, {"kind", q.kind}, {"prompt", q.prompt}, {"options", std::move(options)}, {"correct", std::move(correct)}};
}

std::vector<shown_question> make_shown(const std::vector<question>& bank, bool shuffle, std::mt19937_64& rng) {
  std::vector<shown_question> shown;
  for (const auto& q : bank) {
    shown_question s{q.id, q.kind, q.prompt, {}, {q.correct.begin(), q.correct.end()}};
    for (std::size_t i = 0; i < q.options.size(); ++i) s.options.push_back({static_cast<int>(i), q.options[i]});
    if (shuffle) std::shuffle(s.options.begin(), s.options.end(), rng);
    shown.push_back(std::move(s));
  }
  if (shuffle) std::shuffle(shown.begin(), shown.end(), rng);
  return shown;
}

std::string store_shown(const std::vector<shown_question>& shown) {
  json::array out;
  for (const auto& q : shown) {
    json::array options, correct;
    for (const auto& o : q.options) options.push_back(json::object{{"id", o.id}, {"text", o.text}});
    for (int c : q.correct) correct.emplace_back(c);
    out.push_back(json::object{{"id", q.id}, {"kind", q.kind}, {"prompt", q.prompt}, {"options", std::move(options)},
                               {"correct", std::move(correct)}});
  }
  return json::serialize(out);
}

std::vector<shown_question> load_shown(const std::string& stored) {
  std::vector<shown_question> shown;
  const auto parsed = json::parse(stored);  // kept alive: the loop walks into it
  for (const auto& v : parsed.as_array()) {
    const auto& o = v.as_object();
    shown_question q{o.at("id").as_int64(), std::string(o.at("kind").as_string()), std::string(o.at("prompt").as_string()), {}, {}};
    for (const auto& opt : o.at("options").as_array())
      q.options.push_back({static_cast<int>(opt.at("id").as_int64()), std::string(opt.at("text").as_string())});
    for (int c : int_list(o.at("correct"))) q.correct.insert(c);
    shown.push_back(std::move(q));
  }
  return shown;
}

json::array registrant_json(const std::vector<shown_question>& shown) {
  json::array out;
  for (const auto& q : shown) {
    json::array options;
    for (const auto& o : q.options) options.push_back(json::object{{"id", o.id}, {"text", o.text}});
    out.push_back(json::object{{"id", q.id}, {"kind", q.kind}, {"prompt", q.prompt}, {"options", std::move(options)}});
  }
  return out;
}

answer_sheet parse_answers(const json::object& body, const std::vector<shown_question>& shown) {
  const auto* answers = member(body, "answers");
  if (!answers || !answers->is_object())
    throw common::invalid("answers", "answers must be an object: {\"<question id>\": [option id, ...]}");
  answer_sheet sheet;
  for (const auto& [key, value] : answers->get_object()) {
    const auto field = "answers." + std::string(key);
    std::int64_t qid = 0;
    const auto [p, ec] = std::from_chars(key.data(), key.data() + key.size(), qid);
    const auto q = std::find_if(shown.begin(), shown.end(), [&](const shown_question& s) { return s.id == qid; });
    if (ec != std::errc{} || p != key.data() + key.size() || q == shown.end())
      throw common::invalid(field, "there is no question " + std::string(key) + " in this attempt");
    if (!value.is_array()) throw common::invalid(field, field + " must list the chosen option ids");
    std::set<int> chosen;
    for (const auto& c : value.get_array()) {
      const bool known = c.is_int64() && std::any_of(q->options.begin(), q->options.end(),
                                                     [&](const shown_option& o) { return o.id == c.get_int64(); });
      if (!known) throw common::invalid(field, field + " names an option this question does not have");
      chosen.insert(static_cast<int>(c.get_int64()));
    }
    if (q->kind == "single" && chosen.size() > 1) throw common::invalid(field, "choose one answer for question " + std::string(key));
    sheet.emplace_back(qid, std::move(chosen));
  }
  return sheet;
}

json::object answers_json(const answer_sheet& answers) {
  json::object out;
  for (const auto& [qid, chosen] : answers) {
    json::array ids;
    for (int c : chosen) ids.emplace_back(c);
    out[std::to_string(qid)] = std::move(ids);
  }
  return out;
}

grade grade_answers(const std::vector<shown_question>& shown, const answer_sheet& answers) {
  grade g;
  g.total = static_cast<int>(shown.size());
  for (const auto& q : shown) {
    const auto a = std::find_if(answers.begin(), answers.end(), [&](const auto& x) { return x.first == q.id; });
    if (a != answers.end() && a->second == q.correct) ++g.right;
  }
  if (g.total > 0) g.score_percent = (200 * g.right + g.total) / (2 * g.total);
  return g;
}

}  // namespace cohort::assessment

#include "registration/registration_questions.hpp"

#include "common/errors.hpp"
#include "common/text.hpp"

#include <algorithm>
#include <set>

namespace cohort::registration {
namespace json = boost::json;
using common::invalid;

namespace {

const json::value* member(const json::object& obj, std::string_view key) {
  auto it = obj.find(key);
  return it == obj.end() || it->value().is_null() ? nullptr : &it->value();
}

std::string string_of(const json::value* v, const std::string& field) {
  if (!v) return {};
  if (!v->is_string()) throw invalid(field, field + " must be a string");
  return std::string(v->get_string());
}

bool valid_key(std::string_view key) {
  if (key.empty() || key.size() > 40 || key.front() < 'a' || key.front() > 'z') return false;
  return std::all_of(key.begin(), key.end(), [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'; });
}

std::vector<std::string> read_options(const json::value* v, const std::string& field) {
  if (!v || !v->is_array() || v->get_array().size() < options_min || v->get_array().size() > options_max)
    throw invalid(field, "a choice needs " + std::to_string(options_min) + " to " + std::to_string(options_max) + " options");
  std::vector<std::string> out;
  std::size_t i = 0;
  for (const auto& o : v->get_array()) {
    const auto f = field + "[" + std::to_string(i++) + "]";
    if (!o.is_string()) throw invalid(f, f + " must be a string");
    auto text = common::required_text(o.get_string(), f, option_max_chars);
    if (std::find(out.begin(), out.end(), text) != out.end()) throw invalid(f, "option \"" + text + "\" is listed twice");
    out.push_back(std::move(text));
  }
  return out;
}

question read_question(const json::value& item, const std::string& prefix) {
  if (!item.is_object()) throw invalid(prefix, prefix + " must be an object");
  const auto& obj = item.get_object();
  question q;
  const auto preset = string_of(member(obj, "preset"), prefix + ".preset");
  q.key = string_of(member(obj, "key"), prefix + ".key");
  if (!preset.empty()) {
    if (!q.key.empty() && q.key != preset) throw invalid(prefix + ".key", "a preset's key is its name (" + preset + ")");
    if (!preset_question(preset, q)) throw invalid(prefix + ".preset", "preset must be license_number, state or discipline");
  }
  const bool is_preset = preset_question(q.key, q);  // a key naming a preset is that preset
  if (!q.key.empty() && !valid_key(q.key))
    throw invalid(prefix + ".key", "key must be lower-case letters, digits and _, starting with a letter (at most 40)");
  if (const auto label = string_of(member(obj, "label"), prefix + ".label"); !label.empty() || !is_preset)
    q.label = common::required_text(label, prefix + ".label", label_max_chars);
  if (!is_preset) {
    q.kind = string_of(member(obj, "kind"), prefix + ".kind");
    if (q.kind.empty()) q.kind = "text";
    if (q.kind != "text" && q.kind != "choice" && q.kind != "checkbox")
      throw invalid(prefix + ".kind", "kind must be text, choice or checkbox");
    if (q.kind == "choice") q.options = read_options(member(obj, "options"), prefix + ".options");
  }
  if (const auto* r = member(obj, "required")) {
    if (!r->is_bool()) throw invalid(prefix + ".required", prefix + ".required must be true or false");
    q.required = r->get_bool();
  }
  return q;
}

const question* find_by_key(const std::vector<question>& qs, std::string_view key) {
  auto it = std::find_if(qs.begin(), qs.end(), [&](const question& q) { return q.key == key; });
  return it == qs.end() ? nullptr : &*it;
}

}  // namespace

bool preset_question(std::string_view name, question& out) {
  if (name == "license_number") {
    if (out.label.empty()) out.label = "License number";
    out.kind = "text";
    out.options.clear();
  } else if (name == "state") {
    if (out.label.empty()) out.label = "State or province of licensure";
    out.kind = "text";
    out.options.clear();
  } else if (name == "discipline") {
    if (out.label.empty()) out.label = "Discipline";
    out.kind = "choice";
    out.options = {"OT", "OTA", "PT", "PTA", "SLP", "Other"};
  } else {
    return false;
  }
  out.key = std::string(name);
  return true;
}

std::vector<question> read_questions(const json::value* list) {
  if (!list || !list->is_array()) throw invalid("questions", "questions must be a list");
  const auto& items = list->get_array();
  if (items.size() > questions_max)
    throw invalid("questions", "at most " + std::to_string(questions_max) + " questions per series");
  std::vector<question> out;
  std::set<std::string> keys;
  for (std::size_t i = 0; i < items.size(); ++i) {
    const auto prefix = "questions[" + std::to_string(i) + "]";
    auto q = read_question(items[i], prefix);
    if (!q.key.empty() && !keys.insert(q.key).second)
      throw invalid(prefix + ".key", "the key " + q.key + " is used by two questions");
    out.push_back(std::move(q));
  }
  return out;
}

namespace {

std::string read_text_answer(const question& q, const json::value& v, const std::string& field) {
  if (!v.is_string()) throw invalid(field, q.label + ": must be text");
  auto text = common::trim(v.get_string());
  if (!common::valid_utf8(text) || common::has_control_chars(text)) throw invalid(field, q.label + ": contains characters that are not allowed");
  if (common::utf8_length(text) > answer_max_chars)
    throw invalid(field, q.label + ": at most " + std::to_string(answer_max_chars) + " characters");
  return text;
}

}  // namespace

std::vector<answer> read_answers(const std::vector<question>& questions, const json::value* answers) {
  if (answers && !answers->is_null() && !answers->is_object()) throw invalid("answers", "answers must be an object of key: value");
  static const json::object none;
  const auto& given = answers && answers->is_object() ? answers->get_object() : none;
  for (const auto& kv : given)
    if (!find_by_key(questions, kv.key()))
      throw invalid("answers." + std::string(kv.key()), "this series asks no question \"" + std::string(kv.key()) + "\"");
  std::vector<answer> out;
  for (const auto& q : questions) {
    const auto field = "answers." + q.key;
    const auto* v = member(given, q.key);
    std::string value;
    if (v && q.kind == "checkbox") {
      if (!v->is_bool()) throw invalid(field, q.label + ": must be true or false");
      value = v->get_bool() ? "true" : "false";
    } else if (v) {
      value = read_text_answer(q, *v, field);
      if (q.kind == "choice" && !value.empty() && std::find(q.options.begin(), q.options.end(), value) == q.options.end()) {
        std::string list;
        for (const auto& o : q.options) list += (list.empty() ? "" : ", ") + o;
        throw invalid(field, q.label + ": choose one of " + list);
      }
    }
    const bool missing = value.empty() || (q.kind == "checkbox" && value == "false");
    if (q.required && missing)
      throw invalid(field, q.kind == "checkbox" ? q.label + ": must be ticked to register" : q.label + " is required");
    if (!value.empty()) out.push_back(answer{q.id, std::move(value)});
  }
  return out;
}

json::array questions_json(const std::vector<question>& questions) {
  json::array out;
  for (const auto& q : questions) {
    json::array options;
    for (const auto& o : q.options) options.emplace_back(o);
    out.push_back(json::object{{"key", q.key}, {"label", q.label}, {"kind", q.kind}, {"options", std::move(options)}, {"required", q.required}});
  }
  return out;
}

json::value answer_value_json(const question& q, std::string_view stored) {
  if (q.kind == "checkbox") return json::value(stored == "true");
  return json::value(json::string(stored));
}

json::array answers_json(const std::vector<question>& questions, const std::map<std::int64_t, std::string>& stored) {
  json::array out;
  for (const auto& q : questions)
    if (auto it = stored.find(q.id); it != stored.end())
      out.push_back(json::object{{"key", q.key}, {"label", q.label}, {"value", answer_value_json(q, it->second)}});
  return out;
}

std::string answer_cell(const question& q, std::string_view stored) {
  if (q.kind == "checkbox") return stored == "true" ? "yes" : "no";
  return std::string(stored);
}

}  // namespace cohort::registration

#include "assessment/evaluation_store.hpp"

#include "common/csv.hpp"
#include "common/errors.hpp"
#include "common/rfc3339.hpp"
#include "common/text.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <array>
#include <set>

namespace cohort::assessment {
namespace json = boost::json;

namespace {

const json::value* member(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v && !v->is_null() ? v : nullptr;
}

evaluation_item parse_item(const json::value& v, const std::string& at) {
  if (!v.is_object()) throw common::invalid(at, at + " must be an object");
  const auto& o = v.get_object();
  evaluation_item item;
  if (const auto* id = member(o, "id")) {
    if (!id->is_int64() || id->get_int64() < 1) throw common::invalid(at + ".id", at + ".id must be an item id");
    item.id = id->get_int64();
  }
  if (const auto* s = member(o, "session_number")) {
    if (!s->is_int64() || s->get_int64() < 1 || s->get_int64() > 10000)
      throw common::invalid(at + ".session_number", at + ".session_number must be a session number or null (every session)");
    item.session_number = static_cast<int>(s->get_int64());
  }
  const auto* kind = member(o, "kind");
  if (!kind || !kind->is_string() || (kind->get_string() != "scale" && kind->get_string() != "text"))
    throw common::invalid(at + ".kind", at + ".kind must be \"scale\" or \"text\"");
  item.kind = std::string(kind->get_string());
  const auto* prompt = member(o, "prompt");
  if (!prompt || !prompt->is_string()) throw common::invalid(at + ".prompt", at + ".prompt must be text");
  item.prompt = common::required_text(std::string_view(prompt->get_string()), at + ".prompt", 1000);
  if (const auto* required = member(o, "required")) {
    if (!required->is_bool()) throw common::invalid(at + ".required", at + ".required must be true or false");
    item.required = required->get_bool();
  }
  return item;
}

std::optional<std::int64_t> session_param(std::optional<int> session) {
  return session ? std::optional<std::int64_t>(*session) : std::nullopt;
}

}  // namespace

json::object item_json(const evaluation_item& item) {
  return {{"id", item.id},
          {"session_number", item.session_number ? json::value(*item.session_number) : json::value(nullptr)},
          {"kind", item.kind},
          {"prompt", item.prompt},
          {"required", item.required}};
}

std::vector<evaluation_item> parse_items(const json::object& body) {
  const auto* items = member(body, "items");
  if (!items || !items->is_array()) throw common::invalid("items", "items must be a list");
  if (items->get_array().size() > max_evaluation_items) throw common::invalid("items", "an evaluation has at most 50 items");
  std::vector<evaluation_item> out;
  std::set<std::int64_t> ids;
  for (std::size_t i = 0; i < items->get_array().size(); ++i) {
    const auto at = "items[" + std::to_string(i) + "]";
    out.push_back(parse_item(items->get_array()[i], at));
    if (out.back().id && !ids.insert(out.back().id).second) throw common::invalid(at + ".id", at + ".id appears twice");
  }
  return out;
}

std::vector<evaluation_item> load_items(store::database& db, std::int64_t webinar_id, std::optional<int> session) {
  auto st = db.prepare(
      "SELECT id, session_number, kind, prompt, required FROM ce_evaluation_items WHERE webinar_id = ?1"
      " AND (?2 IS NULL OR session_number IS NULL OR session_number = ?2) ORDER BY position, id");
  st.bind(1, webinar_id).bind(2, session_param(session));
  std::vector<evaluation_item> out;
  while (st.step()) {
    evaluation_item item{st.int64(0), {}, st.text(2), st.text(3), st.int64(4) != 0};
    if (const auto s = st.optional_int64(1)) item.session_number = static_cast<int>(*s);
    out.push_back(std::move(item));
  }
  return out;
}

void replace_items(store::database& db, std::int64_t webinar_id, const std::vector<evaluation_item>& items) {
  std::set<std::int64_t> kept;
  for (std::size_t i = 0; i < items.size(); ++i) {
    const auto at = "items[" + std::to_string(i) + "]";
    const auto& item = items[i];
    if (item.session_number) {
      auto s = db.prepare("SELECT 1 FROM sessions WHERE webinar_id = ? AND number = ?");
      s.bind(1, webinar_id).bind(2, *item.session_number);
      if (!s.step()) throw common::invalid(at + ".session_number", "this series has no session " + std::to_string(*item.session_number));
    }
    const auto session = session_param(item.session_number);
    if (item.id) {
      auto up = db.prepare(
          "UPDATE ce_evaluation_items SET session_number = ?, position = ?, kind = ?, prompt = ?, required = ? WHERE id = ? AND webinar_id = ?");
      up.bind(1, session).bind(2, static_cast<std::int64_t>(i + 1)).bind(3, item.kind).bind(4, item.prompt).bind(5, item.required ? 1 : 0);
      up.bind(6, item.id).bind(7, webinar_id);
      up.run();
      if (db.changes() == 0) throw common::invalid(at + ".id", "this series has no evaluation item " + std::to_string(item.id));
      kept.insert(item.id);
    } else {
      auto ins = db.prepare(
          "INSERT INTO ce_evaluation_items (webinar_id, session_number, position, kind, prompt, required) VALUES (?, ?, ?, ?, ?, ?)");
      ins.bind(1, webinar_id).bind(2, session).bind(3, static_cast<std::int64_t>(i + 1)).bind(4, item.kind).bind(5, item.prompt);
      ins.bind(6, item.required ? 1 : 0);
      ins.run();
      kept.insert(db.last_insert_rowid());
    }
  }
  for (const auto& old : load_items(db, webinar_id)) {
    if (kept.count(old.id)) continue;
    auto del = db.prepare("DELETE FROM ce_evaluation_items WHERE id = ?");
    del.bind(1, old.id);
    del.run();
  }
}

std::optional<evaluation_submission> find_submission(store::database& db, std::int64_t webinar_id, std::int64_t registration_id,
                                                     int session) {
  auto st = db.prepare(
      "SELECT answers, submitted_at FROM ce_evaluations WHERE webinar_id = ? AND registration_id = ? AND session_number = ?");
  st.bind(1, webinar_id).bind(2, registration_id).bind(3, session);
  if (!st.step()) return std::nullopt;
  return evaluation_submission{json::parse(st.text(0)).as_object(), st.int64(1)};
}

json::object parse_submission(const json::object& body, const std::vector<evaluation_item>& items) {
  const auto* answers = member(body, "answers");
  if (!answers || !answers->is_object()) throw common::invalid("answers", "answers must be an object: {\"<item id>\": 1..5 or text}");
  for (const auto& answer : answers->get_object()) {
    const auto key = answer.key();  // not a structured binding: clang 14 cannot capture one in a lambda
    const bool known = std::any_of(items.begin(), items.end(), [&](const evaluation_item& i) { return std::to_string(i.id) == key; });
    if (!known) throw common::invalid("answers." + std::string(key), "there is no item " + std::string(key) + " in this evaluation");
  }
  json::object out;
  for (const auto& item : items) {
    const auto key = std::to_string(item.id);
    const auto field = "answers." + key;
    const auto* v = member(answers->get_object(), key);
    if (item.kind == "scale") {
      if (v && (!v->is_int64() || v->get_int64() < 1 || v->get_int64() > 5))
        throw common::invalid(field, "choose 1 to 5 for \"" + item.prompt + "\"");
      if (v) out[key] = v->get_int64();
    } else {
      if (v && !v->is_string()) throw common::invalid(field, "the answer to \"" + item.prompt + "\" must be text");
      auto text = v ? common::optional_text(std::string_view(v->get_string()), field, max_text_answer_chars, true) : std::string();
      if (!text.empty()) out[key] = std::move(text);
    }
    if (item.required && !out.contains(key)) throw common::invalid(field, "please answer \"" + item.prompt + "\"");
  }
  return out;
}

void insert_submission(store::database& db, std::int64_t webinar_id, std::int64_t registration_id, int session,
                       const json::object& answers, std::int64_t now) {
  if (find_submission(db, webinar_id, registration_id, session))
    throw common::conflict("you already sent the evaluation for this session", "already_submitted");
  auto ins = db.prepare(
      "INSERT INTO ce_evaluations (webinar_id, registration_id, session_number, answers, submitted_at) VALUES (?, ?, ?, ?, ?)");
  ins.bind(1, webinar_id).bind(2, registration_id).bind(3, session).bind(4, json::serialize(answers)).bind(5, now);
  ins.run();
}

namespace {

struct response_row {
  std::int64_t registration_id = 0;
  std::string name, email;
  int session = 0;
  std::int64_t submitted_at = 0;
  json::object answers;
};

std::vector<response_row> load_responses(store::database& db, std::int64_t webinar_id, std::optional<int> session) {
  auto st = db.prepare(
      "SELECT e.registration_id, coalesce(r.name, ''), coalesce(r.email, ''), e.session_number, e.submitted_at, e.answers"
      " FROM ce_evaluations e LEFT JOIN registrations r ON r.id = e.registration_id WHERE e.webinar_id = ?1"
      " AND (?2 IS NULL OR e.session_number = ?2) ORDER BY e.session_number, e.submitted_at, e.registration_id");
  st.bind(1, webinar_id).bind(2, session_param(session));
  std::vector<response_row> rows;
  while (st.step())
    rows.push_back({st.int64(0), st.text(1), st.text(2), static_cast<int>(st.int64(3)), st.int64(4), json::parse(st.text(5)).as_object()});
  return rows;
}

}  // namespace

json::object summary(store::database& db, std::int64_t webinar_id, std::optional<int> session) {
  const auto rows = load_responses(db, webinar_id, session);
  json::array out;
  for (const auto& item : load_items(db, webinar_id, session)) {
    auto o = item_json(item);
    const auto key = std::to_string(item.id);
    std::int64_t count = 0, sum = 0;
    std::array<std::int64_t, 5> dist{};
    json::array texts;
    for (const auto& r : rows) {
      const auto* v = r.answers.if_contains(key);
      if (!v) continue;
      ++count;
      if (v->is_int64() && v->get_int64() >= 1 && v->get_int64() <= 5) {
        sum += v->get_int64();
        ++dist[static_cast<std::size_t>(v->get_int64() - 1)];
      } else if (v->is_string()) {
        texts.push_back(json::object{{"session_number", r.session}, {"text", v->get_string()}});
      }
    }
    o["count"] = count;
    if (item.kind == "scale") {
      o["mean"] = count ? json::value(static_cast<double>(std::llround(static_cast<double>(sum) * 100.0 / static_cast<double>(count))) / 100.0)
                        : json::value(nullptr);
      o["distribution"] = json::array(dist.begin(), dist.end());
    } else {
      o["answers"] = std::move(texts);
    }
    out.push_back(std::move(o));
  }
  return {{"webinar_id", webinar_id},
          {"session_number", session ? json::value(*session) : json::value(nullptr)},
          {"responses", static_cast<std::int64_t>(rows.size())},
          {"items", std::move(out)}};
}

std::string summary_csv(store::database& db, std::int64_t webinar_id, std::optional<int> session) {
  const auto items = load_items(db, webinar_id, session);
  std::vector<std::string> header{"registration_id", "name", "email", "session", "submitted_at"};
  for (const auto& item : items) header.push_back(item.prompt);
  std::string csv;
  common::append_csv_row(csv, header);
  for (const auto& r : load_responses(db, webinar_id, session)) {
    std::vector<std::string> row{std::to_string(r.registration_id), r.name, r.email, std::to_string(r.session),
                                 common::format_rfc3339(r.submitted_at)};
    for (const auto& item : items) {
      const auto* v = r.answers.if_contains(std::to_string(item.id));
      row.push_back(!v ? "" : v->is_string() ? std::string(v->get_string()) : v->is_int64() ? std::to_string(v->get_int64()) : "");
    }
    common::append_csv_row(csv, row);
  }
  return csv;
}

}  // namespace cohort::assessment

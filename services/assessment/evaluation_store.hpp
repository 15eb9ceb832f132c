// The evaluation: the organizer's items per series (session NULL: asked after every session) or
// per session (ce_evaluation_items), one submission per registrant and session (ce_evaluations),
// and the organizer's summary and CSV. Items keep their id across edits (a PUT item with an id
// updates it), so the answers already given still name the right item.
#pragma once

#include "store/sqlite.hpp"

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace cohort::assessment {

inline constexpr std::size_t max_evaluation_items = 50;
inline constexpr std::size_t max_text_answer_chars = 2000;

struct evaluation_item {
  std::int64_t id = 0;                // 0: new
  std::optional<int> session_number;  // nullopt: every session
  std::string kind;                   // "scale" (1..5) | "text"
  std::string prompt;
  bool required = true;
};
boost::json::object item_json(const evaluation_item& item);

// {items: [{id?, session_number, kind, prompt, required}]}; throws common::invalid ("items[2].kind").
std::vector<evaluation_item> parse_items(const boost::json::object& body);
// Every item of the series, in order; `session` set: only those asked after that session.
std::vector<evaluation_item> load_items(store::database& db, std::int64_t webinar_id, std::optional<int> session = std::nullopt);
// Makes the series' items exactly `items` (ids kept, new ones added, missing ones deleted).
// Throws common::invalid for a session the series does not have or an id of another series.
void replace_items(store::database& db, std::int64_t webinar_id, const std::vector<evaluation_item>& items);

struct evaluation_submission {
  boost::json::object answers;  // item id -> 1..5 or text
  std::int64_t submitted_at = 0;
};
std::optional<evaluation_submission> find_submission(store::database& db, std::int64_t webinar_id, std::int64_t registration_id,
                                                     int session);
// {answers: {"<item id>": 1..5 | "text"}} checked against the items: throws common::invalid
// ("answers.<item id>") for a missing required answer, a bad value or an unknown item.
boost::json::object parse_submission(const boost::json::object& body, const std::vector<evaluation_item>& items);
// Stores it; common::conflict ("already_submitted") when this session's evaluation was sent.
void insert_submission(store::database& db, std::int64_t webinar_id, std::int64_t registration_id, int session,
                       const boost::json::object& answers, std::int64_t now);

// Per item: responses, and for scales the mean and the 1..5 distribution, for text the answers.
// `session` set: that session's submissions and the items asked after it.
boost::json::object summary(store::database& db, std::int64_t webinar_id, std::optional<int> session);
// One row per submission: registrant, session, time, then one column per item.
std::string summary_csv(store::database& db, std::int64_t webinar_id, std::optional<int> session);

}  // namespace cohort::assessment

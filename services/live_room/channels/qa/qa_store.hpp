// The Q&A's durable side in SQLite (written through the single writer on the primary): the
// questions, their status, the votes and each series' settings. Every write is idempotent and
// keeps the same winner as the room (status: highest rank; vote, pin, settings: latest `at`).
#pragma once

#include "store/sqlite.hpp"

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace cohort::live_room {

struct stored_question {
  std::string id;
  std::int64_t asker_id = 0;
  std::string asker_name;
  bool anonymous = false;
  std::string text;
  std::int64_t asked_at_ms = 0;
};

void insert_question(store::database& db, std::int64_t webinar_id, const stored_question& q);
void raise_status(store::database& db, std::int64_t webinar_id, const std::string& question_id, const std::string& status);
void put_vote(store::database& db, std::int64_t webinar_id, const std::string& question_id, std::int64_t voter, bool up, std::int64_t at_ms);
void put_pin(store::database& db, std::int64_t webinar_id, const std::optional<std::string>& question_id, std::int64_t at_ms);
void put_anonymous(store::database& db, std::int64_t webinar_id, bool anonymous, std::int64_t at_ms);
bool question_exists(store::database& db, std::int64_t webinar_id, const std::string& question_id);

// Everything the store holds for a webinar, as state frames marked "stored":true.
std::vector<std::string> qa_state_frames(store::database& db, std::int64_t webinar_id);

struct question_row {
  stored_question q;
  std::string status;  // open when none was set
  std::int64_t votes = 0;
};
// Ordered by votes, then time.
void for_each_question(store::database& db, std::int64_t webinar_id, const std::function<void(const question_row&)>& visit);

}  // namespace cohort::live_room

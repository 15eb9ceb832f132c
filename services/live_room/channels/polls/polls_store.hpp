// The polls' durable side in SQLite (primary): the polls an organizer prepared for a session and
// each registrant's answer, keyed by (poll, registrant) so a repeated vote replaces, never adds.
// Written through the single writer; read from the reader pool.
#pragma once

#include "store/sqlite.hpp"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace cohort::live_room {

struct poll_input {
  int session = 0;
  std::string question;
  std::string kind;  // single | multiple
  std::vector<std::string> options;
};

struct poll_row {
  std::int64_t id = 0;
  std::int64_t webinar_id = 0;
  poll_input input;
  std::string state;  // draft | open | closed
  bool shown = false;
  std::int64_t rev = 0;
  std::int64_t created_at = 0;
  std::optional<std::int64_t> opened_ms;
  std::optional<std::int64_t> closed_ms;
};

// Votes per option and how many registrants voted; a vote after the poll closed is not counted.
struct poll_tally {
  std::vector<std::int64_t> counts;
  std::int64_t voters = 0;
};

std::int64_t insert_poll(store::database& db, std::int64_t webinar_id, const poll_input& in, std::int64_t now);
std::optional<poll_row> find_poll(store::database& db, std::int64_t webinar_id, std::int64_t poll_id);
// session 0: every session's.
std::vector<poll_row> list_polls(store::database& db, std::int64_t webinar_id, int session);
std::int64_t count_polls(store::database& db, std::int64_t webinar_id);
// A draft's question, kind, options and session.
void update_poll(store::database& db, std::int64_t poll_id, const poll_input& in);
// state, shown and the times as `row` has them, rev + 1; returns the new rev.
std::int64_t save_poll_state(store::database& db, const poll_row& row);
// Keeps the newer of the stored answer and this one. Ignored for a poll not of this webinar or a draft.
void upsert_answer(store::database& db, std::int64_t webinar_id, std::int64_t poll_id, std::int64_t registration_id,
                   const std::vector<int>& choices, std::int64_t answered_ms);
poll_tally tally_poll(store::database& db, const poll_row& poll);
// The x.poll frames of every poll past draft and the x.vote frame of every answer.
std::vector<std::string> poll_state_frames(store::database& db, std::int64_t webinar_id);

struct answer_row {
  std::int64_t poll_id = 0;
  int session = 0;
  std::string question;
  std::int64_t registration_id = 0;
  std::string name;
  std::string email;
  std::string answer;  // the chosen options' texts, "; "-separated
  std::int64_t answered_ms = 0;
};
void for_each_answer(store::database& db, std::int64_t webinar_id, const std::function<void(const answer_row&)>& visit);

}  // namespace cohort::live_room

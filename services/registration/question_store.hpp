// Signup questions and answers in SQLite (registration_questions, registration_answers of schema
// step 15). Functions take the connection they run on: writes from sqlite_writer jobs, reads
// from a reader lease. Deleting a question (or a registration) deletes its answers by cascade.
#pragma once

#include "registration/registration_questions.hpp"
#include "store/sqlite.hpp"

#include <cstdint>
#include <map>
#include <vector>

namespace cohort::registration {

// The series' questions in their order (empty when it has none).
std::vector<question> questions_of(store::database& db, std::int64_t webinar_id);
// Every series' questions, by webinar id (for the public list).
std::map<std::int64_t, std::vector<question>> questions_by_webinar(store::database& db);
// Replaces the series' questions with `questions`, in that order, upserting by key so answers to
// a question kept survive; a question whose kind changed loses its answers, a choice its answers
// no longer among the options; a question left out goes with its answers. A new custom question
// is named q<id> (a key of that form the series does not have is common::invalid). Throws
// common::not_found for an unknown series. Returns the stored list.
std::vector<question> save_questions(store::database& db, std::int64_t webinar_id, const std::vector<question>& questions);
// Inside the signup's transaction.
void store_answers(store::database& db, std::int64_t registration_id, const std::vector<answer>& answers);
// question id -> stored value, for one registration.
std::map<std::int64_t, std::string> answers_of(store::database& db, std::int64_t registration_id);
// registration id -> (question id -> stored value), for the series' registrations with ids in [from, to].
std::map<std::int64_t, std::map<std::int64_t, std::string>> answers_of_webinar(store::database& db, std::int64_t webinar_id,
                                                                                std::int64_t from_id = 0,
                                                                                std::int64_t to_id = INT64_MAX);

}  // namespace cohort::registration

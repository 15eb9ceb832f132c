// Everything Cohort holds about one registration, as one JSON document (GET /api/me/export and
// the organizer's /api/webinars/{id}/registrations/{rid}/export). Read-only; runs on a reader.
#pragma once

#include "store/sqlite.hpp"

#include <boost/json/object.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace cohort::privacy {

// The tables the export reads for a registration, by the name of the table. A table of the
// schema that holds a registration id (registration_id, chat_messages.from_id,
// qa_questions.asker_id) and is missing here is a defect: tests/privacy compares the two.
const std::vector<std::string>& exported_tables();

// The document; throws common::not_found when the registration does not exist (or is not in
// webinar_id, when webinar_id is not 0). Never contains a post-test's correct answers, the token
// or its hash, or the sealed join link.
boost::json::object export_registration(store::database& db, std::int64_t webinar_id, std::int64_t registration_id,
                                        std::int64_t now);

}  // namespace cohort::privacy

// Reads the facts of the completion rule for one registrant and session from the tables
// (attendance, replay_views + recordings, ce_questions, ce_attempts, ce_evaluation_items,
// ce_evaluations, ce_attestations, ce_certificates), in a few cached queries. Works on a reader
// lease and on the writer inside its transaction (settle): it only reads.
#pragma once

#include "ce/ce_settings.hpp"
#include "ce/completion.hpp"
#include "registration/webinar_store.hpp"
#include "store/sqlite.hpp"

#include <cstdint>
#include <optional>
#include <string>

namespace cohort::ce {

struct certificate_ref {
  std::string code;
  std::string kind;  // live | recorded
  std::int64_t issued_at = 0;
  std::optional<std::int64_t> revoked_at;
};

// The facts under the session's CURRENT window (a moved session moves what counts).
session_facts load_facts(store::database& db, std::int64_t webinar_id, std::int64_t registration_id,
                         const registration::session_slot& slot, std::int64_t now);
// The newest unrevoked certificate of (registration, session), else the newest revoked one.
std::optional<certificate_ref> find_certificate(store::database& db, std::int64_t registration_id, int session_number);

// Everything about one registrant and session: the series, its settings, the facts and where
// they stand. Throws common::not_found for an unknown webinar or session.
struct session_standing {
  registration::webinar webinar;
  settings ce;
  registration::session_slot slot;
  session_facts facts;
  progress where;
  std::optional<certificate_ref> certificate;
};
session_standing load_standing(store::database& db, std::int64_t webinar_id, std::int64_t registration_id, int session_number,
                               std::int64_t now);

}  // namespace cohort::ce

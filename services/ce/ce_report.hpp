// The organizer's CE report: per registrant (active registrations and anyone seen in the room)
// and session, where they stand, with license number, discipline and state from the signup
// questions, and the certificate if one was issued. JSON for the console, CSV for the provider's
// yearly reporting. Read-only, from a reader lease.
#pragma once

#include "ce/ce_facts.hpp"

#include <boost/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace cohort::ce {

struct report_row {
  std::int64_t registration_id = 0;
  std::string name, email, status;
  std::string license_number, discipline, region;  // region: the 'state' signup question (state/province)
  int session_number = 0;
  std::int64_t minutes = 0;
  int replay_percent = 0;
  std::optional<int> best_score;
  int attempts = 0;
  bool evaluation_submitted = false;
  bool attested = false;
  state progress_state = state::upcoming;
  credit_kind kind = credit_kind::none;
  double contact_hours = 0, ceus = 0;
  std::optional<certificate_ref> certificate;
};

struct registrant_total {
  std::int64_t registration_id = 0;
  int sessions_complete = 0;
  double contact_hours = 0, ceus = 0;  // earned: complete sessions (or an unrevoked certificate)
};

struct report {
  std::int64_t webinar_id = 0;
  std::string title;
  int session_number = 0;  // 0: the whole series
  bool offered = false;
  std::vector<report_row> rows;  // by registrant, then session
  std::vector<registrant_total> totals;
};

// session_number 0: every session. Throws common::not_found for an unknown webinar or session.
report build_report(store::database& db, std::int64_t webinar_id, int session_number, std::int64_t now);
boost::json::object report_json(const report& r);
std::string report_csv(const report& r);

}  // namespace cohort::ce

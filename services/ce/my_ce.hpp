// "My CE": the registrant's own standing per session (GET /api/me/ce and the answer of an
// attestation), built from a reader lease or inside a write.
#pragma once

#include "ce/ce_facts.hpp"

#include <boost/json.hpp>

#include <cstdint>
#include <vector>

namespace cohort::ce {

struct my_ce {
  boost::json::object body;
  std::vector<int> to_settle;  // sessions complete without any certificate yet
};

// Throws common::not_found for an unknown webinar.
my_ce build_my_ce(store::database& db, std::int64_t webinar_id, std::int64_t registration_id, std::int64_t now);

// One session of "My CE".
boost::json::object session_json(const settings& ce, std::int64_t webinar_id, const registration::session_slot& slot,
                                 const session_facts& f, const progress& p, const std::optional<certificate_ref>& cert);

}  // namespace cohort::ce

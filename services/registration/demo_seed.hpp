// The demo series a newcomer sees on first start with --demo.
#pragma once

#include "store/sqlite.hpp"

#include <cstdint>

namespace cohort::registration {

// Creates the demo series when the database holds no webinar yet. Returns its id, or 0 if skipped.
std::int64_t seed_demo(store::database& db, std::int64_t now);

}  // namespace cohort::registration

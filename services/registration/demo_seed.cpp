#include "registration/demo_seed.hpp"

#include "registration/webinar_store.hpp"

namespace cohort::registration {

std::int64_t seed_demo(store::database& db, std::int64_t now) {
  if (count_webinars(db) > 0) return 0;
  webinar_input demo;
  demo.title = "Level Up Your Skillset: 5 Ways Infant Massage Supports Your Pediatric Therapy Goals";
  demo.description =
      "A free weekly live series for occupational, physical and speech therapists. Each session covers one way "
      "infant massage supports regulation, feeding, motor and bonding goals, with live Q&A and weekly bonus "
      "materials: handouts, home-program sheets and practice videos.";
  demo.capacity = 500;
  // Five weekly sessions at 18:00 UTC, the first one a week from today.
  const std::int64_t first = (now / 86400 + 7) * 86400 + 18 * 3600;
  for (int k = 0; k < 5; ++k) demo.sessions.push_back(session_slot{0, first + k * 7 * 86400, 60});
  return create_webinar(db, std::move(demo), now);
}

}  // namespace cohort::registration

#include "ce/credit.hpp"

#include "ce/ce_facts.hpp"
#include "common/errors.hpp"

namespace cohort::ce {

std::optional<credit> settle(store::database& db, const credit_hooks& hooks, std::int64_t webinar_id, std::int64_t registration_id,
                             int session_number, std::int64_t now) {
  auto reg = db.prepare("SELECT 1 FROM registrations WHERE id = ? AND webinar_id = ?");
  reg.bind(1, registration_id).bind(2, webinar_id);
  if (!reg.step()) return std::nullopt;
  std::optional<session_standing> s;
  try {
    s = load_standing(db, webinar_id, registration_id, session_number, now);
  } catch (const common::not_found&) {
    return std::nullopt;  // the series or session went away meanwhile
  }
  if (!s->ce.offered || s->where.where != state::complete || s->certificate) return std::nullopt;
  credit c{webinar_id, registration_id, session_number, std::string(to_string(s->where.kind)), s->facts.best_passing_score};
  for (const auto& hook : hooks) hook(db, c, now);
  return c;
}

}  // namespace cohort::ce

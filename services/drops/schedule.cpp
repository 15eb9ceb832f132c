#include "drops/schedule.hpp"

namespace cohort::drops {

std::optional<audience_kind> parse_audience(std::string_view text) {
  if (text == "all") return audience_kind::all;
  if (text == "attended") return audience_kind::attended;
  if (text == "missed") return audience_kind::missed;
  return std::nullopt;
}

std::string_view to_string(audience_kind a) {
  switch (a) {
    case audience_kind::attended: return "attended";
    case audience_kind::missed: return "missed";
    default: return "all";
  }
}

const registration::session_slot* find_session(const std::vector<registration::session_slot>& sessions, int number) {
  for (const auto& s : sessions)
    if (s.number == number) return &s;
  return nullptr;
}

std::optional<std::int64_t> effective_release(const release_rule& rule, const std::vector<registration::session_slot>& sessions) {
  if (rule.at) return rule.at;
  if (rule.is_draft()) return std::nullopt;
  const auto* s = find_session(sessions, rule.session);
  if (!s) return std::nullopt;
  return s->starts_at + std::int64_t{rule.offset_minutes} * 60;
}

std::pair<std::int64_t, std::int64_t> session_minutes(const registration::session_slot& s) {
  const auto end = s.starts_at + std::int64_t{s.duration_minutes} * 60;
  // A minute counts when it starts inside the session.
  const auto first = s.starts_at / 60 + (s.starts_at % 60 != 0 ? 1 : 0);
  const auto last_exclusive = end / 60 + (end % 60 != 0 ? 1 : 0);
  return {first, last_exclusive};
}

std::vector<std::int64_t> select_audience(audience_kind kind, const std::vector<std::int64_t>& registrants,
                                          const std::unordered_map<std::int64_t, std::int64_t>& minutes, int min_minutes) {
  std::vector<std::int64_t> out;
  if (kind == audience_kind::all) return registrants;
  for (auto id : registrants) {
    const auto it = minutes.find(id);
    const bool attended = it != minutes.end() && it->second >= min_minutes;
    if (attended == (kind == audience_kind::attended)) out.push_back(id);
  }
  return out;
}

}  // namespace cohort::drops

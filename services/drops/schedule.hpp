// The arithmetic of a drop's schedule, without a database: when a drop is due (absolute, or
// relative to a session that may move) and whom an attended/missed drop goes to.
#pragma once

#include "registration/webinar_store.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace cohort::drops {

// An absolute time, or minutes from the start of session `session` (1-based, numbered by time
// like the series' sessions), or neither: a draft, which is never due.
struct release_rule {
  std::optional<std::int64_t> at;
  int session = 0;  // 0: not relative
  int offset_minutes = 0;
  bool is_draft() const { return !at && session == 0; }
};

enum class audience_kind { all, attended, missed };
std::optional<audience_kind> parse_audience(std::string_view text);
std::string_view to_string(audience_kind a);

// When the drop is due under the current sessions; nullopt when its anchor session is gone.
std::optional<std::int64_t> effective_release(const release_rule& rule, const std::vector<registration::session_slot>& sessions);

const registration::session_slot* find_session(const std::vector<registration::session_slot>& sessions, int number);

// The attendance minutes (unix time / 60) that fall inside a session: [first, end).
std::pair<std::int64_t, std::int64_t> session_minutes(const registration::session_slot& s);

// attended: registrants with at least min_minutes inside the session; missed: the others.
// `minutes` holds each registrant's minutes inside the session (absent = none).
std::vector<std::int64_t> select_audience(audience_kind kind, const std::vector<std::int64_t>& registrants,
                                          const std::unordered_map<std::int64_t, std::int64_t>& minutes, int min_minutes);

}  // namespace cohort::drops

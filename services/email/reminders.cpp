#include "email/reminders.hpp"

#include <algorithm>

namespace cohort::email {

std::vector<due_reminder> reminders_due(const std::vector<reminder_session>& sessions,
                                        const std::vector<std::int64_t>& offsets, std::int64_t now) {
  std::vector<due_reminder> out;
  for (const auto& s : sessions) {
    if (now >= s.starts_at) continue;
    std::optional<std::int64_t> best;
    for (const auto offset : offsets) {
      if (offset <= 0 || s.starts_at - offset > now) continue;
      if (!best || offset < *best) best = offset;
    }
    if (best) out.push_back({s.session, *best, s.starts_at - *best});
  }
  return out;
}

std::optional<std::int64_t> next_reminder_at(const std::vector<reminder_session>& sessions,
                                             const std::vector<std::int64_t>& offsets, std::int64_t now) {
  std::optional<std::int64_t> next;
  for (const auto& s : sessions)
    for (const auto offset : offsets) {
      const auto at = s.starts_at - offset;
      if (offset > 0 && at > now && (!next || at < *next)) next = at;
    }
  return next;
}

std::string reminder_dedupe_key(std::int64_t registration_id, std::int64_t session, std::int64_t offset_seconds) {
  return "reminder:" + std::to_string(registration_id) + ":" + std::to_string(session) + ":" +
         offset_label(offset_seconds);
}

std::string offset_label(std::int64_t s) {
  if (s != 0 && s % 3600 == 0) return std::to_string(s / 3600) + "h";
  if (s != 0 && s % 60 == 0) return std::to_string(s / 60) + "m";
  return std::to_string(s) + "s";
}

std::string time_left_text(std::int64_t seconds) {
  auto plural = [](std::int64_t n, const char* unit) { return std::to_string(n) + " " + unit + (n == 1 ? "" : "s"); };
  const auto minutes = std::max<std::int64_t>(1, (seconds + 30) / 60);
  if (minutes >= 120) return plural((minutes + 30) / 60, "hour");
  if (minutes == 60) return "1 hour";
  return plural(minutes, "minute");
}

}  // namespace cohort::email

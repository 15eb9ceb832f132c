// Which session reminders are due, as pure arithmetic. The caller sweeps periodically, and for
// every registrant enqueues each due reminder under reminder_dedupe_key(...): the outbox's
// unique key makes each reminder once-only, also across restarts, so sweeping again is harmless.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace cohort::email {

struct reminder_session {
  std::int64_t session = 0;    // the id (or number) the dedupe key and the template name
  std::int64_t starts_at = 0;  // unix seconds
};

struct due_reminder {
  std::int64_t session = 0;
  std::int64_t offset_seconds = 0;  // how long before the start, e.g. 86400
  std::int64_t due_at = 0;          // starts_at - offset
};

// For each session not yet started (now < starts_at), the reminder with the smallest offset
// whose time has come (due_at <= now). Only that one: after downtime, a session 30 minutes away
// gets the 1 h reminder, not the 24 h one as well. A reminder whose session has started is never
// due. offsets in seconds, any order; non-positive ones are ignored.
std::vector<due_reminder> reminders_due(const std::vector<reminder_session>& sessions,
                                        const std::vector<std::int64_t>& offsets, std::int64_t now);

// The next time (> now) a reminder becomes due, for arming a timer; nullopt when none will.
std::optional<std::int64_t> next_reminder_at(const std::vector<reminder_session>& sessions,
                                             const std::vector<std::int64_t>& offsets, std::int64_t now);

// "reminder:<registration>:<session>:<label>", label from offset_label.
std::string reminder_dedupe_key(std::int64_t registration_id, std::int64_t session, std::int64_t offset_seconds);
// "24h", "1h", "90m", "45s": the largest unit that divides the offset exactly.
std::string offset_label(std::int64_t offset_seconds);
// For the reminder template's starts_in, from the time actually left when the reminder is
// rendered (starts_at - now; a sweep runs a little late, or late after downtime): whole hours
// from 2 h up ("24 hours"), "1 hour" for 60 minutes, else minutes ("59 minutes", "1 minute").
std::string time_left_text(std::int64_t seconds);

}  // namespace cohort::email

// Webinar series and their sessions in SQLite. Functions take the connection they run on:
// writes are called from sqlite_writer jobs (inside its transaction), reads from a reader lease.
#pragma once

#include "common/errors.hpp"
#include "store/sqlite.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace cohort::registration {

struct session_slot {
  int number = 0;  // 1-based, in time order
  std::int64_t starts_at = 0;
  int duration_minutes = 60;
  std::int64_t ends_at() const { return starts_at + std::int64_t{duration_minutes} * 60; }
};

struct webinar_input {
  std::string title;
  std::string description;
  std::optional<std::int64_t> capacity;
  std::vector<session_slot> sessions;  // numbers are assigned by time order on write
};

// Absent members are left as they are.
struct webinar_patch {
  std::optional<std::string> title;
  std::optional<std::string> description;
  std::optional<std::optional<std::int64_t>> capacity;
  std::optional<std::vector<session_slot>> sessions;
};

struct webinar {
  std::int64_t id = 0;
  std::string title;
  std::string description;
  std::optional<std::int64_t> capacity;
  std::vector<session_slot> sessions;
  std::int64_t registered = 0;
  std::int64_t waitlisted = 0;
  std::int64_t created_at = 0;

  std::optional<std::int64_t> seats_left() const;
  // Start of the first session that has not ended yet at `now`.
  std::optional<std::int64_t> next_session_at(std::int64_t now) const;
};

std::int64_t create_webinar(store::database& db, webinar_input input, std::int64_t now);
std::optional<webinar> find_webinar(store::database& db, std::int64_t id);
// Upcoming first (soonest next session), then past ones (most recent first).
std::vector<webinar> list_webinars(store::database& db, std::int64_t now);
// Throws common::not_found. Raising the capacity promotes waitlisted registrants.
// `promoted` (optional) receives the ids a raised capacity moved up from the waitlist.
void update_webinar(store::database& db, std::int64_t id, webinar_patch patch, std::int64_t now,
                    std::vector<std::int64_t>* promoted = nullptr);
// Throws common::not_found. Sessions and registrations go with it.
// Deletes the series with everything of it, and leaves a tombstone (deleted_webinars) so neither
// its id nor its registrations' ids are given out again.
void delete_webinar(store::database& db, std::int64_t id, std::int64_t now);
std::int64_t count_webinars(store::database& db);

}  // namespace cohort::registration

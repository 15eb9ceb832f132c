#include "email/reminders.hpp"

#include <catch2/catch.hpp>

namespace {

using namespace cohort::email;

constexpr std::int64_t hour = 3600, minute = 60;
constexpr std::int64_t start = 1768471200;  // session 3
const std::vector<std::int64_t> offsets{24 * hour, 1 * hour};

std::vector<reminder_session> sessions() { return {{3, start}, {4, start + 7 * 24 * hour}}; }

}  // namespace

TEST_CASE("nothing is due before the first reminder time", "[email][reminders]") {
  CHECK(reminders_due(sessions(), offsets, start - 24 * hour - 1).empty());
}

TEST_CASE("the 24 h reminder is due from 24 h before the start", "[email][reminders]") {
  const auto due = reminders_due(sessions(), offsets, start - 24 * hour);
  REQUIRE(due.size() == 1);
  CHECK(due[0].session == 3);
  CHECK(due[0].offset_seconds == 24 * hour);
  CHECK(due[0].due_at == start - 24 * hour);
  CHECK(reminders_due(sessions(), offsets, start - 2 * hour).at(0).offset_seconds == 24 * hour);
}

TEST_CASE("once the 1 h reminder is due it replaces the 24 h one", "[email][reminders]") {
  const auto due = reminders_due(sessions(), offsets, start - 30 * minute);
  REQUIRE(due.size() == 1);
  CHECK(due[0].offset_seconds == hour);
  CHECK(due[0].due_at == start - hour);
}

TEST_CASE("no reminder for a session that has started", "[email][reminders]") {
  CHECK(reminders_due(sessions(), offsets, start).empty());
  CHECK(reminders_due(sessions(), offsets, start + hour).empty());
  // The next week's session is unaffected, and its time comes.
  const auto due = reminders_due(sessions(), offsets, start + 6 * 24 * hour);
  REQUIRE(due.size() == 1);
  CHECK(due[0].session == 4);
}

TEST_CASE("offsets in any order, non-positive offsets are ignored", "[email][reminders]") {
  const std::vector<std::int64_t> odd{0, hour, -hour, 24 * hour};
  const auto due = reminders_due(sessions(), odd, start - 10 * minute);
  REQUIRE(due.size() == 1);
  CHECK(due[0].offset_seconds == hour);
  CHECK(reminders_due(sessions(), {}, start - 10 * minute).empty());
}

TEST_CASE("next_reminder_at is the next time a reminder becomes due", "[email][reminders]") {
  CHECK(next_reminder_at(sessions(), offsets, start - 48 * hour) == start - 24 * hour);
  CHECK(next_reminder_at(sessions(), offsets, start - 24 * hour) == start - hour);
  CHECK(next_reminder_at(sessions(), offsets, start - hour) == start + 6 * 24 * hour);
  CHECK(next_reminder_at(sessions(), offsets, start + 7 * 24 * hour) == std::nullopt);
}

TEST_CASE("reminder dedupe keys and texts", "[email][reminders]") {
  CHECK(reminder_dedupe_key(7, 3, 24 * hour) == "reminder:7:3:24h");
  CHECK(reminder_dedupe_key(7, 3, hour) == "reminder:7:3:1h");
  CHECK(offset_label(90 * minute) == "90m");
  CHECK(offset_label(45) == "45s");
  CHECK(time_left_text(24 * hour) == "24 hours");
  CHECK(time_left_text(24 * hour - 20) == "24 hours");
  CHECK(time_left_text(hour) == "1 hour");
  CHECK(time_left_text(hour - 20) == "1 hour");
  CHECK(time_left_text(hour - 45) == "59 minutes");
  CHECK(time_left_text(2 * hour - 10 * minute) == "110 minutes");
  CHECK(time_left_text(61) == "1 minute");
  CHECK(time_left_text(5) == "1 minute");
}

// A registrant's time zone, from the system's tz database (Debian `tzdata`, TZif files under
// /usr/share/zoneinfo, or $TZDIR): the UTC offset and abbreviation in force at an instant, so
// mail can say "Thu 3 Dec 2026, 12:00 CST" instead of UTC. GCC 12's <chrono> has no tz database
// and TZ/localtime would change process-wide state, hence this small reader.
//
// A zone is read once and kept (there are ~600); a name is accepted only if it looks like an IANA
// name (Area/Location, no "..") and its file parses. After the file's last transition the POSIX
// rule in its footer applies (e.g. "CST6CDT,M3.2.0,M11.1.0"), so dates past 2037 are right too.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace cohort::common {

class time_zone {
 public:
  struct local_time {
    std::int32_t utc_offset_seconds = 0;  // east of UTC
    std::string abbreviation;             // "CST", "CEST", "+0530"
  };

  // nullptr for a malformed name or a zone the tz database does not have.
  static std::shared_ptr<const time_zone> find(std::string_view name);
  // Parses TZif bytes (tests); throws std::runtime_error when they are not TZif.
  static std::shared_ptr<const time_zone> parse(std::string name, std::string_view tzif);

  const std::string& name() const { return name_; }
  local_time at(std::int64_t unix_seconds) const;

  struct type {
    std::int32_t offset = 0;
    bool dst = false;
    std::string abbreviation;
  };
  struct posix_rule;  // the footer

 private:
  time_zone() = default;
  std::string name_;
  std::vector<std::int64_t> transitions_;  // ascending
  std::vector<std::uint8_t> type_of_;      // per transition
  std::vector<type> types_;
  std::shared_ptr<const posix_rule> footer_;
};

// "America/Chicago"-shaped: letters, digits, '_', '+', '-' in '/'-separated parts, no "." parts.
bool plausible_zone_name(std::string_view name);

}  // namespace cohort::common

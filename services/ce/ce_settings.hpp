// A series' CE settings (ce_series + ce_sessions): load, validate, save, and the JSON documents
// of GET/PUT /api/webinars/{id}/ce and the public summary. A series without a ce_series row has
// the defaults with offered = false. Functions take the connection they run on (a reader lease,
// or the writer inside its transaction).
#pragma once

#include "ce/completion.hpp"
#include "registration/webinar_store.hpp"
#include "store/sqlite.hpp"

#include <boost/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace cohort::ce {

struct session_settings {
  int number = 0;
  std::string title;
  std::string approval_number;
  std::optional<double> contact_hours;  // nullopt: the session's length
};

struct settings {
  bool offered = false;
  double ceu_per_hour = 0.1;
  std::string provider_name;
  std::string provider_number;
  std::string instructional_level;
  std::vector<std::string> objectives;
  std::string statement;
  bool live_credit = true;
  bool recorded_credit = false;
  int min_percent = 85;
  bool test_required = true;
  int pass_percent = 80;
  int attempts_max = 3;
  bool shuffle = true;
  bool evaluation_required = false;
  std::string attestation;  // '' : none asked
  std::vector<session_settings> sessions;  // only the sessions with a ce_sessions row

  rule completion_rule() const;
  const session_settings* session(int number) const;
};

// Throws common::not_found for an unknown webinar.
settings load_settings(store::database& db, std::int64_t webinar_id);
// The whole document of a PUT (absent members take their defaults). Throws common::invalid
// naming the field; a session number the series does not have is invalid too.
settings parse_settings(const boost::json::object& body, const std::vector<registration::session_slot>& sessions);
// Replaces the series' settings and session rows. Throws common::not_found.
void save_settings(store::database& db, std::int64_t webinar_id, const settings& s, std::int64_t now);

// Contact hours of a session: the organizer's number, else its length in hours.
double contact_hours(const settings& s, const registration::session_slot& slot);
double ceus(const settings& s, double hours);
double round2(double x);

// GET /api/webinars/{id}/ce: the settings, every session of the series listed (starts_at and
// duration_minutes read-only, contact_hours null when it is the session's length).
boost::json::object settings_json(const settings& s, const registration::webinar& w);
// GET /api/webinars/{id}/ce/summary: what a signup or room page may show.
boost::json::object summary_json(const settings& s, const registration::webinar& w);

}  // namespace cohort::ce

// Bonus drops in SQLite: the organizer's schedule, the release (done once, in the writer), who
// each released drop is for, and what registrants have seen and opened. Also the live-room
// attendance minutes that decide "attended" and "missed".
#pragma once

#include "common/errors.hpp"
#include "drops/schedule.hpp"
#include "store/sqlite.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace cohort::drops {

struct drop_file {
  std::string sha256;  // hex; the file's name in the content store
  std::string name;    // as uploaded, for Content-Disposition
  std::string type;    // Content-Type
  std::int64_t size = 0;
};

// What the organizer sends (already checked for shape by the API).
struct drop_input {
  std::string title;
  std::string body;
  std::optional<std::string> url;
  release_rule release;
  audience_kind audience = audience_kind::all;
  std::optional<int> audience_session;
};

// A PATCH: only the members that are set change.
struct drop_patch {
  std::optional<std::string> title, body;
  bool url_set = false;  // url changes (maybe to none)
  std::optional<std::string> url;
  std::optional<release_rule> release;
  std::optional<audience_kind> audience;
  bool audience_session_set = false;
  std::optional<int> audience_session;
};

struct drop_record {
  std::int64_t id = 0;
  std::int64_t webinar_id = 0;
  std::string title;
  std::string body;
  std::optional<std::string> url;
  release_rule release;
  std::optional<std::int64_t> release_at;  // effective; nullopt when the anchor session is gone
  audience_kind audience = audience_kind::all;
  std::optional<int> audience_session;
  std::optional<drop_file> file;
  std::optional<std::int64_t> released_at;
  std::optional<std::string> audience_ids;  // JSON array, fixed at release (attended/missed)
  std::int64_t opened = 0;
  std::int64_t created_at = 0;
};

// All of these throw common::invalid, common::not_found or common::conflict (once released).
std::int64_t insert_drop(store::database& db, std::int64_t webinar_id, const drop_input& in, std::int64_t now);
void update_drop(store::database& db, std::int64_t webinar_id, std::int64_t drop_id, const drop_patch& patch, std::int64_t now);
void delete_drop(store::database& db, std::int64_t webinar_id, std::int64_t drop_id);
void set_file(store::database& db, std::int64_t webinar_id, std::int64_t drop_id, const drop_file& file, std::int64_t now);
drop_record load_drop(store::database& db, std::int64_t webinar_id, std::int64_t drop_id);
std::optional<drop_record> find_drop(store::database& db, std::int64_t drop_id);
// Every drop of the series, by effective release time (unanchored last).
std::vector<drop_record> list_drops(store::database& db, std::int64_t webinar_id);
// The released drops this registrant may see, newest first.
std::vector<drop_record> released_for(store::database& db, std::int64_t webinar_id, std::int64_t registration_id);
bool is_released_to(const drop_record& d, std::int64_t registration_id);

// The release. next_due: the earliest effective release time of an unreleased drop.
std::optional<std::int64_t> next_due(store::database& db);
struct released_drop {
  std::int64_t webinar_id = 0;
  std::int64_t drop_id = 0;
  std::string frame;  // the x.drop state frame (live_room/channels/drops)
  std::string title;
  std::string body;
  std::optional<std::vector<std::int64_t>> audience;  // attended/missed: who it went to; nullopt: everyone
};
// Runs inside the release's transaction for each drop released (the email outbox's drop notices).
using release_hook = std::function<void(store::database&, const released_drop&)>;
// Marks every due drop released (fixing the audience of attended/missed drops from the
// attendance so far) and returns them; a drop already released is never returned again. Run
// it in the single writer: the mark is the release, the bus only announces it.
std::vector<released_drop> release_due(store::database& db, std::int64_t now, int min_minutes, const release_hook& in_release = {});

// The state frames a live room starts from: released drops and seen markers.
std::vector<std::string> state_frames(store::database& db, std::int64_t webinar_id);

// "Everything released up to `at` is seen"; the marker only moves forward. Returns the marker.
std::int64_t mark_seen(store::database& db, std::int64_t webinar_id, std::int64_t registration_id, std::int64_t at);
std::int64_t seen_until(store::database& db, std::int64_t webinar_id, std::int64_t registration_id);
void mark_opened(store::database& db, std::int64_t drop_id, std::int64_t registration_id, std::int64_t now);

void record_attendance(store::database& db, std::int64_t webinar_id, const std::vector<std::int64_t>& registration_ids,
                       std::int64_t minute);
// Registrants (not cancelled) with at least min_minutes in session `number`, or without.
std::vector<std::int64_t> audience_of(store::database& db, std::int64_t webinar_id, audience_kind kind, int session_number,
                                      int min_minutes);

// What the organizer should know about the series' drops: one object per unreleased drop whose
// anchor session is gone ({"code":"session_removed","drop_id","title","session","message"}).
boost::json::array drop_warnings(store::database& db, std::int64_t webinar_id);

// JSON views (proto/http-api.yaml): the organizer's, and the registrant's (hello, drop event, list).
boost::json::object organizer_json(const drop_record& d);
boost::json::object registrant_json(const drop_record& d);
std::string drop_frame(const drop_record& d);

}  // namespace cohort::drops

// Recordings become replays: the list of a webinar's recordings, the organizer's delete, and the
// replay itself from disk — GET /replay/{id}/{recording}/index.m3u8?token=T (a VOD playlist,
// checked like a live one) and its segments by signed URL, with Range. A registrant's playlist
// signs its segment URLs for that registration (r=), and each segment fetched that way is noted in
// replay_views (replay_view_log) — recorded CE credit is measured from these. The organizer's
// playlist is signed for nobody and its fetches are not noted.
#pragma once

#include "gateway/router.hpp"
#include "registration/api_support.hpp"
#include "store/reader_pool.hpp"
#include "streaming/replay_view_log.hpp"
#include "streaming/viewer_gate.hpp"

#include <filesystem>
#include <memory>

namespace cohort::streaming {

class replay_api {
 public:
  replay_api(registration::write_path writes, store::reader_pool* readers, std::filesystem::path recordings_dir, const viewer_gate& gate)
      : writes_(writes),
        readers_(readers),
        recordings_dir_(std::move(recordings_dir)),
        gate_(gate),
        views_(std::make_shared<replay_view_log>(writes.writer)) {}

  void add_routes(http::router& r);

 private:
  void list(http::request& req, http::responder& respond);
  void remove(http::request& req, http::responder& respond);
  void file(http::request& req, http::responder& respond);

  registration::write_path writes_;
  store::reader_pool* readers_;
  std::filesystem::path recordings_dir_;  // data/recordings: <webinar>/<dir>/ per recording
  const viewer_gate& gate_;
  std::shared_ptr<replay_view_log> views_;  // shared with its queued writer jobs
};

}  // namespace cohort::streaming

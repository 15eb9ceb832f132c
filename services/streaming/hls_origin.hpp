// The live stream to viewers, on the primary: playlists and segments from the ingest's memory
// (stream_ingest's live_feed), behind the viewer gate, and the tally of who watches.
//   GET /live/{id}/index.m3u8?token=T      the viewer's token, checked per playlist fetch; with
//                                          streaming.extra_360p a master playlist naming
//   GET /live/{id}/{main|360p}.m3u8?token=T  each rendition's playlist, checked the same way
//   GET /live/{id}/{file}?exp=E&sig=S      segments: a signature per webinar and 10-minute window,
//                                          the same for every viewer, so a CDN can cache them
// Who may watch is viewer_gate's to say. A registrant's playlist fetch counts as attendance (at
// most once a minute each, through `on_watching`).
// Thread-safe: the tally is under one mutex, never held while calling out.
#pragma once

#include "gateway/router.hpp"
#include "streaming/stream_ingest.hpp"
#include "streaming/viewer_gate.hpp"
#include "streaming/viewer_tally.hpp"

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <span>
#include <string>
#include <utility>

namespace cohort::streaming {

class hls_origin {
 public:
  // A registrant fetched the live playlist (at most once a minute each). May be empty.
  using watching_hook = std::function<void(std::int64_t webinar_id, std::int64_t registration_id)>;

  // Reads the ingest's live streams; both must outlive this.
  hls_origin(const stream_ingest& ingest, const viewer_gate& gate, watching_hook on_watching)
      : ingest_(ingest), gate_(gate), on_watching_(std::move(on_watching)) {}

  void add_routes(http::router& r);
  // Playlist viewers of the last 30 s united with `present` (registrants in the live room), each
  // person once.
  std::size_t viewers(std::int64_t webinar_id, std::span<const std::int64_t> present);
  // The series was deleted: its viewers are forgotten.
  void webinar_deleted(std::int64_t webinar_id);

 private:
  void playlist(http::request& req, http::responder& respond);
  void master_playlist(http::request& req, http::responder& respond);
  void media_playlist_for(http::request& req, http::responder& respond, const std::string& rendition);
  void segment(http::request& req, http::responder& respond);
  void note_viewer(std::int64_t webinar_id, const http::identity& who, const http::request& req);
  void note_watching(std::int64_t webinar_id, const http::identity& who);

  const stream_ingest& ingest_;
  const viewer_gate& gate_;
  watching_hook on_watching_;
  std::mutex mutex_;
  std::map<std::int64_t, viewer_tally> viewers_;  // webinar -> its playlist fetchers
  std::map<std::pair<std::int64_t, std::int64_t>, std::int64_t> watching_minute_;  // (webinar, registration) -> last minute reported
};

}  // namespace cohort::streaming

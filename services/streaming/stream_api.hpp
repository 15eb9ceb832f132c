// The organizer's side of a webinar's stream, and its public status:
//   POST /api/webinars/{id}/stream-key   a new key (the old one stops working), with the RTMP URL
//   GET  /api/webinars/{id}/stream-key   the current key, with the RTMP URL
//   GET  /api/webinars/{id}/stream       live or not, since when, which session, how many watch
// Thread-safe once set_rtmp_public_url was called (before the server accepts).
#pragma once

#include "gateway/router.hpp"
#include "registration/api_support.hpp"
#include "store/reader_pool.hpp"
#include "streaming/hls_origin.hpp"
#include "streaming/stream_ingest.hpp"

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace cohort::streaming {

class stream_api {
 public:
  // The registrants present in the webinar's live room on any node lately (the primary's rooms
  // hear every node's reports): counted as viewers while the stream is live. May be empty.
  using presence_query = std::function<std::vector<std::int64_t>(std::int64_t webinar_id)>;

  // The ingest and the origin must outlive this.
  stream_api(registration::write_path writes, store::reader_pool* readers, const stream_ingest& ingest, hls_origin& origin,
             presence_query present_in_room)
      : writes_(std::move(writes)), readers_(readers), ingest_(ingest), origin_(origin), present_in_room_(std::move(present_in_room)) {}

  void add_routes(http::router& r);
  // What OBS is told, e.g. rtmp://host:1935/live.
  void set_rtmp_public_url(std::string url) { rtmp_public_url_ = std::move(url); }

 private:
  void rotate_key(http::request& req, http::responder& respond);
  void get_key(http::request& req, http::responder& respond);
  void status(http::request& req, http::responder& respond);

  registration::write_path writes_;
  store::reader_pool* readers_;
  const stream_ingest& ingest_;
  hls_origin& origin_;
  presence_query present_in_room_;
  std::string rtmp_public_url_;
};

}  // namespace cohort::streaming

// Live streaming on the primary, as one module: built from what the node has, then
// add_routes / start / stop. Inside, by role:
//   rtmp_relay     the RTMP port organizers publish to (OBS), which hands checked publishes to
//   stream_ingest  ffmpeg per publish, its HLS PUTs on a loopback server, which webinar is live,
//                  the recording, and the room's x.stream frames
//   hls_origin     /live/...: playlists and segments to viewers (viewer_gate), the viewer tally
//   stream_api     /api/webinars/{id}/stream-key and /stream: the organizer's key, the status
//   replay_api     /api/webinars/{id}/recordings, /replay/...: ended recordings (recording_store)
// Nothing runs before start(); a module that was never started still lists its routes.
#pragma once

#include "live_room/room_bus.hpp"
#include "config/config.hpp"
#include "node/module.hpp"
#include "node/node_services.hpp"
#include "gateway/http_types.hpp"
#include "gateway/router.hpp"
#include "registration/api_support.hpp"
#include "store/reader_pool.hpp"
#include "streaming/hls_origin.hpp"
#include "streaming/replay_api.hpp"
#include "streaming/stream_api.hpp"
#include "streaming/stream_ingest.hpp"
#include "streaming/viewer_gate.hpp"

#include <boost/asio/io_context.hpp>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace cohort::metrics { struct registry; }

namespace cohort::streaming {

class rtmp_relay;

struct streaming_context {
  boost::asio::io_context* ioc = nullptr;
  registration::write_path writes;
  store::reader_pool* readers = nullptr;
  live_room::room_bus* bus = nullptr;
  http::authenticator authenticate;
  std::string url_secret;             // signs segment URLs (key_ring::segment_url_key)
  std::filesystem::path data_dir;     // recordings go to data_dir/recordings
  streaming_config settings;          // [streaming]
  std::string public_url;             // server.public_url: the RTMP URL's host unless settings name one
  metrics::registry* metrics = nullptr;
  hls_origin::watching_hook on_watching;         // a registrant watches (attendance); may be empty
  stream_api::presence_query present_in_room;    // registrants in the live room lately; may be empty
};

class streaming_module : public node::module {
 public:
  explicit streaming_module(streaming_context ctx);
  // From the primary's services ([streaming], the key ring, the data dir); the hooks come from
  // the live room. Forgets a deleted series (node.registrations).
  streaming_module(const node::node_services& node, hls_origin::watching_hook on_watching, stream_api::presence_query present_in_room);
  ~streaming_module() override;
  streaming_module(const streaming_module&) = delete;
  streaming_module& operator=(const streaming_module&) = delete;

  // /api/webinars/{id}/stream-key, /stream, /recordings..., /live/..., /replay/... Add them
  // before the static pages: /live/{id}/index.m3u8 is a stream, /live/{id} stays a page.
  void add_routes(http::router& r) override;
  // Closes the recordings a crash left open (queued before any publish can reopen one), starts
  // the ingest server, then the RTMP relay (its port printed as "cohort: rtmp ingest on ...").
  // Throws, naming the address, when the RTMP port cannot be bound.
  void start() override;
  // Shutdown, before the connections and the bus close: the relay stops, every live stream
  // ends as if its publisher left (the rooms hear it), ffmpeg and the ingest server stop.
  void stop() override;

  // The series was deleted: a live publish of it stops, its recordings and viewers are forgotten.
  void webinar_deleted(std::int64_t webinar_id);
  // The x.stream state frame of every series that has streamed, for putting back after the bus
  // (re)connected (see stream_ingest::stream_state_frames).
  std::vector<std::pair<std::int64_t, std::string>> stream_state_frames() { return ingest_->stream_state_frames(); }
  // After the bus (re)connected: puts those frames back (a crash mid-stream may have left
  // live:true in Redis; this process says what is live now).
  void republish(live_room::room_bus& bus) {
    for (auto& [webinar, frame] : stream_state_frames()) bus.publish_state(webinar, "stream", std::move(frame));
  }

 private:
  streaming_context ctx_;
  std::shared_ptr<stream_ingest> ingest_;
  viewer_gate gate_;
  hls_origin origin_;
  stream_api api_;
  replay_api replays_;
  std::unique_ptr<rtmp_relay> relay_;
};

// What OBS is told: streaming.rtmp_public_url, else rtmp://<host of public_url, or the RTMP
// listen host>:<port>/live.
std::string rtmp_public_url(const streaming_config& settings, const std::string& public_url, std::uint16_t port);

}  // namespace cohort::streaming

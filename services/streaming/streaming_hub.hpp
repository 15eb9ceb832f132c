// Live streaming on the primary. The organizer's encoder publishes RTMP to the relay
// (rtmp_relay.hpp), which starts one ffmpeg per publish; ffmpeg PUTs fMP4 HLS to a loopback
// ingest endpoint of this hub (a second HTTP server, its own router). No secret is in those URLs
// (ffmpeg's command line is public to `ps`): the ingest server lets in only connections whose
// other end is a socket of an ffmpeg this hub started (peer_process.hpp), and a request only for
// that ffmpeg's publish. The hub keeps each live stream's segments in memory (segment_store), writes the
// recording, tells every node's room when a stream starts and stops (an x.stream state frame),
// and serves playlists and segments to registrants:
//   GET /live/{id}/index.m3u8?token=T      the viewer's token, checked per playlist fetch; with
//                                          streaming.extra_360p a master playlist naming
//   GET /live/{id}/{main|360p}.m3u8?token=T  each rendition's playlist, checked the same way
//   GET /live/{id}/{file}?exp=E&sig=S      segments: a signature per webinar and 10-minute window,
//                                          the same for every viewer, so a CDN can cache them
// Who may watch is viewer_gate's to say; the recordings, once ended, are replay_api's (its
// routes are added with the hub's: /api/webinars/{id}/recordings, /replay/{id}/{recording}/...).
#pragma once

#include "live_room/room_bus.hpp"
#include "gateway/http_server.hpp"
#include "gateway/router.hpp"
#include "registration/api_support.hpp"
#include "store/reader_pool.hpp"
#include "streaming/child_process.hpp"
#include "streaming/ffmpeg_command.hpp"
#include "streaming/recorder.hpp"
#include "streaming/replay_api.hpp"
#include "streaming/segment_store.hpp"
#include "streaming/viewer_gate.hpp"
#include "streaming/viewer_tally.hpp"

#include <boost/asio/io_context.hpp>

#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace cohort::metrics { struct registry; }

namespace cohort::streaming {

struct hub_context {
  boost::asio::io_context* ioc = nullptr;
  registration::write_path writes;
  store::reader_pool* readers = nullptr;
  live_room::room_bus* bus = nullptr;
  http::authenticator authenticate;
  std::string url_secret;               // signs segment URLs (key_ring::segment_url_key)
  std::filesystem::path recordings_dir; // data/recordings
  ffmpeg_options ffmpeg;
  std::string rtmp_public_url;          // what OBS is told, e.g. rtmp://host:1935/live
  int session_before_minutes = 30;
  int session_after_minutes = 60;
  metrics::registry* metrics = nullptr;
  // A registrant fetched the live playlist (at most once a minute each): attendance, like
  // being in the live room.
  std::function<void(std::int64_t webinar_id, std::int64_t registration_id)> on_watching;
  // The registrants present in the webinar's live room on any node lately (the primary's rooms
  // hear every node's reports): counted as viewers while the stream is live. May be empty.
  std::function<std::vector<std::int64_t>(std::int64_t webinar_id)> present_in_room;
};

class streaming_hub : public std::enable_shared_from_this<streaming_hub> {
 public:
  explicit streaming_hub(hub_context ctx);
  ~streaming_hub();

  // Starts the loopback ingest server; returns its port. Call before the RTMP relay accepts.
  std::uint16_t start_ingest();
  void set_rtmp_public_url(std::string url) { ctx_.rtmp_public_url = std::move(url); }
  void add_routes(http::router& r);
  // Server shutdown: every live stream ends as if its publisher left (the room hears live:false,
  // the recording is closed with the segments it has), then every ffmpeg and the ingest server stop.
  void stop();
  // At start-up, before any publish: recordings a crash left open (ended_at null) are closed at
  // their last segment on disk, with the segments and duration their playlist there lists.
  void close_interrupted_recordings();
  // The x.stream state frame of every series that has streamed (live:false unless it is live on
  // this process), for putting back after the bus (re)connected: a crash may have left a stale
  // live:true in Redis.
  std::vector<std::pair<std::int64_t, std::string>> stream_state_frames();

  // For the relay, which answers RTMP itself until a publish names its key. The key is checked
  // first: the webinar it opens, or nullopt to refuse it (unknown key, or the webinar already has
  // a live publisher). Starts nothing.
  std::optional<std::int64_t> authorize_publish(const std::string& stream_key);
  // Then the authorized publish begins: ffmpeg is started listening on rtmp_port and writing to a
  // new ingest id, and the webinar's recording opens; returns that id (empty if ffmpeg cannot
  // start, or another publish of the webinar began meanwhile). No ffmpeg exists before this.
  std::string begin_publish(std::int64_t webinar_id, std::uint16_t rtmp_port);
  // The relay must read the first video message and call transcode_instead when it is not
  // browser-playable (streaming.video = "auto").
  bool checks_video() const { return ctx_.ffmpeg.per_input && !ctx_.ffmpeg.transcode; }
  // Replaces the publish's ffmpeg (passthrough, which has seen the handshake and the commands,
  // no output yet) with a transcoding one listening on rtmp_port, to which the relay replays the
  // client's bytes from the start. False when it cannot start (the publish should end).
  bool transcode_instead(const std::string& ingest_id, std::uint16_t rtmp_port);
  // The publisher left: ffmpeg finishes its last segment and exits (stopped if it lingers);
  // refused: ffmpeg is stopped at once. The stream ends when ffmpeg exits.
  void end_publish(const std::string& ingest_id, bool graceful);
  // The series was deleted: a live publish of it stops at once, and its recordings leave the
  // disk (after that ffmpeg exited, so no late segment lands in a fresh folder).
  void webinar_deleted(std::int64_t webinar_id);

 private:
  struct live_stream;
  void on_ingest_put(http::request& req, http::responder& respond);
  void on_ingest_delete(http::request& req, http::responder& respond);
  std::shared_ptr<live_stream> ingest_target(const http::request& req);
  std::shared_ptr<child_process> start_ffmpeg(const std::string& ingest_id, std::uint16_t rtmp_port, bool transcode,
                                              std::uint64_t generation);
  void on_ffmpeg_exit(const std::string& ingest_id, std::uint64_t generation);
  void finish(live_stream& s);
  bool admit_ingest_connection(const boost::asio::ip::tcp::socket& connection);
  void announce(const live_stream& s, bool live);
  std::optional<int> session_at(std::int64_t webinar_id, std::int64_t now);

  void rotate_key(http::request& req, http::responder& respond);
  void get_key(http::request& req, http::responder& respond);
  void status(http::request& req, http::responder& respond);
  void playlist(http::request& req, http::responder& respond);
  void master_playlist(http::request& req, http::responder& respond);
  void media_playlist_for(http::request& req, http::responder& respond, const std::string& rendition);
  void note_viewer(std::int64_t webinar_id, const http::identity& who, const http::request& req);
  std::string main_rendition() const { return ctx_.ffmpeg.extra_360p ? "main" : ""; }
  void segment(http::request& req, http::responder& respond);
  void note_watching(std::int64_t webinar_id, const http::identity& who);

  hub_context ctx_;
  viewer_gate gate_;
  replay_api replays_;
  std::unique_ptr<http::router> ingest_routes_;
  std::unique_ptr<http::http_server> ingest_server_;
  std::uint16_t ingest_port_ = 0;
  mutable std::mutex mutex_;
  std::map<std::string, std::shared_ptr<live_stream>> by_ingest_;
  std::map<std::int64_t, std::shared_ptr<live_stream>> by_webinar_;
  // Ingest connections (the peer's address and port) -> the publish their ffmpeg writes.
  std::map<std::pair<std::string, std::uint16_t>, std::string> ingest_peers_;
  std::map<std::int64_t, viewer_tally> viewers_;  // webinar -> its playlist fetchers
  std::map<std::pair<std::int64_t, std::int64_t>, std::int64_t> watching_minute_;  // (webinar, registration) -> last minute reported
  std::map<std::int64_t, std::pair<std::int64_t, std::optional<int>>> last_stream_;  // webinar -> (started_at, session) of the last one
};

}  // namespace cohort::streaming

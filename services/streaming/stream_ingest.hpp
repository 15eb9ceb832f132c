// The ingest side of live streaming, on the primary: which webinar is live and with what. The
// RTMP relay (rtmp_relay.hpp) hands each checked publish over here; this starts the publish's
// ffmpeg, which PUTs fMP4 HLS to a loopback ingest server of its own (its own router):
//   PUT/DELETE /ingest/{ingest}/{file}
// No secret is in those URLs (ffmpeg's command line is public to `ps`): the server lets in only
// connections whose other end is a socket of an ffmpeg started here (peer_process.hpp), and a
// request only for that ffmpeg's publish. Each live stream keeps its segments in memory (a
// segment_store, read by hls_origin) and writes its recording (recorder, recording_store); the
// first playable playlist and the publish's end are told to every node's room as an x.stream
// state frame on the bus.
// Thread-safe: the registry is under one mutex, never held for I/O or calls out. Owned by a
// shared_ptr (ffmpeg's exit reaches it through a weak one).
#pragma once

#include "live_room/room_bus.hpp"
#include "gateway/http_server.hpp"
#include "gateway/router.hpp"
#include "registration/api_support.hpp"
#include "store/reader_pool.hpp"
#include "streaming/child_process.hpp"
#include "streaming/ffmpeg_command.hpp"
#include "streaming/segment_store.hpp"

#include <boost/asio/io_context.hpp>

#include <atomic>
#include <cstdint>
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

struct ingest_context {
  boost::asio::io_context* ioc = nullptr;
  registration::write_path writes;
  store::reader_pool* readers = nullptr;
  live_room::room_bus* bus = nullptr;
  std::filesystem::path recordings_dir;  // data/recordings
  ffmpeg_options ffmpeg;
  int session_before_minutes = 30;  // a publish this near a session belongs to it (its recording)
  int session_after_minutes = 60;
  metrics::registry* metrics = nullptr;
};

// One live publish as viewers see it. Its fields do not change once it is registered, but
// `announced` (set by the ingest when the first playable playlist arrives) and the store (ffmpeg
// writes it; thread-safe).
struct live_feed {
  explicit live_feed(std::size_t window) : store(window * 2 + 4, 256u << 20) {}
  std::string ingest_id;        // in segment URLs: a cache never mixes one publish's files into the next
  std::int64_t webinar_id = 0;  // 0 until the publish named a valid key
  std::optional<int> session;
  std::int64_t started_at = 0;
  segment_store store;
  std::atomic<bool> announced{false};  // viewers were told it is live
};

// What a webinar's stream status shows: the live stream's start and session, else those of the
// last one that ended on this process.
struct stream_status {
  bool live = false;
  std::optional<std::int64_t> started_at;
  std::optional<int> session;
};

class stream_ingest : public std::enable_shared_from_this<stream_ingest> {
 public:
  explicit stream_ingest(ingest_context ctx);
  ~stream_ingest();
  stream_ingest(const stream_ingest&) = delete;
  stream_ingest& operator=(const stream_ingest&) = delete;

  // Starts the loopback ingest server; returns its port. Call before the RTMP relay accepts.
  std::uint16_t start();
  // Server shutdown: every live stream ends as if its publisher left (the room hears live:false,
  // the recording is closed with the segments it has), then every ffmpeg and the ingest server stop.
  void stop();
  // At start-up, before any publish: recordings a crash left open (ended_at null) are closed at
  // their last segment on disk, with the segments and duration their playlist there lists.
  void close_interrupted_recordings();

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

  // The webinar's publish, whether or not it is playable yet; null when none.
  std::shared_ptr<const live_feed> feed_of(std::int64_t webinar_id) const;
  stream_status status_of(std::int64_t webinar_id) const;
  // The x.stream state frame of every series that has streamed (live:false unless it is live on
  // this process), for putting back after the bus (re)connected: a crash may have left a stale
  // live:true in Redis.
  std::vector<std::pair<std::int64_t, std::string>> stream_state_frames();
  const ffmpeg_options& ffmpeg() const { return ctx_.ffmpeg; }

 private:
  struct live_stream;
  void on_ingest_put(http::request& req, http::responder& respond);
  void on_ingest_delete(http::request& req, http::responder& respond);
  std::shared_ptr<live_stream> ingest_target(const http::request& req);
  bool admit_ingest_connection(const boost::asio::ip::tcp::socket& connection);
  std::shared_ptr<child_process> start_ffmpeg(const std::string& ingest_id, std::uint16_t rtmp_port, bool transcode,
                                              std::uint64_t generation);
  void on_ffmpeg_exit(const std::string& ingest_id, std::uint64_t generation);
  void finish(live_stream& s);
  void announce(const live_feed& s, bool live);
  std::optional<int> session_at(std::int64_t webinar_id, std::int64_t now);

  ingest_context ctx_;
  std::unique_ptr<http::router> ingest_routes_;
  std::unique_ptr<http::http_server> ingest_server_;
  std::uint16_t ingest_port_ = 0;
  mutable std::mutex mutex_;
  std::map<std::string, std::shared_ptr<live_stream>> by_ingest_;
  std::map<std::int64_t, std::shared_ptr<live_stream>> by_webinar_;
  // Ingest connections (the peer's address and port) -> the publish their ffmpeg writes.
  std::map<std::pair<std::string, std::uint16_t>, std::string> ingest_peers_;
  std::map<std::int64_t, std::pair<std::int64_t, std::optional<int>>> last_stream_;  // webinar -> (started_at, session) of the last one
};

}  // namespace cohort::streaming

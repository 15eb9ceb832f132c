#include "streaming/stream_ingest.hpp"

#include "common/bytes.hpp"
#include "common/rfc3339.hpp"
#include "gateway/auth.hpp"
#include "live_room/channels/stream/stream_channel.hpp"
#include "metrics/metrics.hpp"
#include "registration/webinar_store.hpp"
#include "streaming/peer_process.hpp"
#include "streaming/recorder.hpp"
#include "streaming/recording_store.hpp"
#include "streaming/stream_keys.hpp"

#include <boost/asio/steady_timer.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <iostream>

namespace cohort::streaming {
namespace fs = std::filesystem;
using http::api_error;
using http::response;
using common::unix_now;

namespace {

std::int64_t unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

}  // namespace

// What the ingest keeps of a publish beyond what viewers see.
struct stream_ingest::live_stream : live_feed {
  using live_feed::live_feed;
  std::string recording;         // its folder name under recordings/<webinar>/
  std::mutex m;                  // the recorder (ffmpeg's PUTs may come on several connections)
  std::unique_ptr<recorder> rec;
  std::shared_ptr<child_process> ffmpeg;
  std::uint64_t generation = 0;  // of `ffmpeg`: the exit of one it replaced ends nothing
  bool deleted = false;          // the series was deleted while live: nothing of it is kept
  bool recording_stopped = false;  // a recording write failed (disk full): it keeps what is on disk
};

stream_ingest::stream_ingest(ingest_context ctx) : ctx_(std::move(ctx)) {}

stream_ingest::~stream_ingest() = default;

std::uint16_t stream_ingest::start() {
  ingest_routes_ = std::make_unique<http::router>(nullptr, http::authenticator{});
  ingest_routes_->add(http::verb::put, "/ingest/{ingest}/{file}", {}, &stream_ingest::on_ingest_put, this);
  ingest_routes_->add(http::verb::del, "/ingest/{ingest}/{file}", {}, &stream_ingest::on_ingest_delete, this);
  http::server_options o;
  o.host = "127.0.0.1";  // ffmpeg runs on this machine; nothing else may write a stream
  o.port = 0;
  o.body_max_bytes = 64u << 20;
  o.read_timeout_seconds = 30;
  o.keepalive_timeout_seconds = 60;
  o.accept_filter = [this](const boost::asio::ip::tcp::socket& c) { return admit_ingest_connection(c); };
  ingest_server_ = std::make_unique<http::http_server>(*ctx_.ioc, o, *ingest_routes_, nullptr);
  ingest_port_ = ingest_server_->listen();
  ingest_server_->start_accepting();
  return ingest_port_;
}

void stream_ingest::stop() {
  std::vector<std::shared_ptr<child_process>> all;
  std::map<std::string, std::shared_ptr<live_stream>> ending;
  {
    std::lock_guard lock(mutex_);
    for (auto& [id, s] : by_ingest_)
      if (s->ffmpeg) all.push_back(s->ffmpeg);
    // The loop stops before ffmpeg's exit would end them: end them now.
    ending.swap(by_ingest_);
    by_webinar_.clear();
    ingest_peers_.clear();
  }
  for (auto& [id, s] : ending) finish(*s);
  for (auto& f : all) f->stop(std::chrono::milliseconds(1000));
  if (ingest_server_) ingest_server_->stop();
}

void stream_ingest::close_interrupted_recordings() {
  ctx_.writes.writer->submit(
      [dir = ctx_.recordings_dir](store::database& db) {
        for (const auto& r : unclosed_recordings(db)) {
          const auto found = summarize_recording(dir / std::to_string(r.webinar_id) / r.dir);
          const auto ended_at = found.last_write ? std::max(*found.last_write, r.started_at) : r.started_at + found.duration_ms / 1000;
          close_recording_by_id(db, r.id, {ended_at, found.duration_ms, found.segments});
          std::cerr << "cohort: streaming: closed recording " << r.id << " of webinar " << r.webinar_id
                    << " left open by a crash (" << found.segments << " segments)\n";
        }
      },
      nullptr);
}

std::shared_ptr<const live_feed> stream_ingest::feed_of(std::int64_t webinar_id) const {
  std::lock_guard lock(mutex_);
  const auto it = by_webinar_.find(webinar_id);
  if (it == by_webinar_.end()) return nullptr;
  return it->second;
}

stream_status stream_ingest::status_of(std::int64_t webinar_id) const {
  stream_status out;
  std::lock_guard lock(mutex_);
  if (auto it = by_webinar_.find(webinar_id); it != by_webinar_.end() && it->second->announced) {
    out.live = true;
    out.started_at = it->second->started_at;
    out.session = it->second->session;
  } else if (auto last = last_stream_.find(webinar_id); last != last_stream_.end()) {
    out.started_at = last->second.first;
    out.session = last->second.second;
  }
  return out;
}

std::vector<std::pair<std::int64_t, std::string>> stream_ingest::stream_state_frames() {
  std::map<std::int64_t, stream_start> last;
  {
    auto db = ctx_.readers->acquire();
    last = latest_stream_starts(*db);
  }
  std::vector<std::pair<std::int64_t, std::string>> out;
  std::lock_guard lock(mutex_);
  for (const auto& [webinar, s] : by_webinar_)
    if (s->announced) out.emplace_back(webinar, live_room::stream_frame(true, unix_ms(), s->started_at, s->session));
  for (const auto& [webinar, stream] : last)
    if (auto it = by_webinar_.find(webinar); it == by_webinar_.end() || !it->second->announced)
      out.emplace_back(webinar, live_room::stream_frame(false, unix_ms(), stream.started_at, stream.session));
  return out;
}

// ---- the relay's side ----

std::shared_ptr<child_process> stream_ingest::start_ffmpeg(const std::string& id, std::uint16_t rtmp_port, bool transcode,
                                                           std::uint64_t generation) {
  const auto base = "http://127.0.0.1:" + std::to_string(ingest_port_) + "/ingest/" + id;
  auto options = ctx_.ffmpeg;
  options.transcode = options.transcode || transcode;
  return child_process::start(
      ctx_.ioc->get_executor(), ffmpeg_hls_command(options, rtmp_port, base),
      // ffmpeg names the stream it was sent ("Unexpected stream live_..."): the key stays out of the log.
      [id](const std::string& line) { std::cerr << "cohort: ffmpeg " << id << ": " << redact_stream_keys(line) << "\n"; },
      [weak = weak_from_this(), id, generation, executor = ctx_.ioc->get_executor()](int status) {
        // ffmpeg's last PUTs (final segment, playlist) may still be in the ingest server's
        // hands when it exits: finish the stream a moment later, so they land in it.
        auto grace = std::make_shared<boost::asio::steady_timer>(executor, std::chrono::milliseconds(1500));
        grace->async_wait([weak, id, generation, grace](boost::system::error_code) {
          if (auto self = weak.lock()) self->on_ffmpeg_exit(id, generation);
        });
        if (WIFSIGNALED(status)) std::cerr << "cohort: ffmpeg " << id << " ended by signal " << WTERMSIG(status) << "\n";
      });
}

std::string stream_ingest::begin_publish(std::int64_t webinar_id, std::uint16_t rtmp_port) {
  const auto now = unix_now();
  const auto session = session_at(webinar_id, now);
  auto s = std::make_shared<live_stream>(static_cast<std::size_t>(ctx_.ffmpeg.live_segments));
  s->ingest_id = common::hex(common::random_bytes(8));
  s->webinar_id = webinar_id;
  s->session = session;
  s->started_at = now;
  const auto id = s->ingest_id;
  // Started before the stream is registered, so every registered stream has its ffmpeg; it has
  // no input yet (the relay connects once this returns), so stopping it below loses nothing.
  try {
    s->ffmpeg = start_ffmpeg(id, rtmp_port, false, 0);
  } catch (const std::exception& e) {
    std::cerr << "cohort: streaming: " << e.what() << "\n";
    return {};
  }
  bool taken = false;
  {
    std::lock_guard lock(mutex_);
    taken = by_webinar_.count(webinar_id) > 0;
    if (!taken) by_ingest_[id] = by_webinar_[webinar_id] = s;
  }
  if (taken) {
    std::cerr << "cohort: rtmp: refused a second publisher for webinar " << webinar_id << "\n";
    s->ffmpeg->stop();
    return {};
  }
  // A session's publishes share one recording (a dropped and resumed stream continues it);
  // outside every session's window each publish is an ad-hoc recording of its own.
  s->recording = session ? std::to_string(*session) : "adhoc-" + std::to_string(now);
  const auto dir = ctx_.recordings_dir / std::to_string(webinar_id) / s->recording;
  {
    std::lock_guard lock(s->m);
    s->rec = std::make_unique<recorder>(dir);
  }
  ctx_.writes.writer->submit(
      [w = webinar_id, session, now, name = s->recording](store::database& db) { open_recording(db, w, session, now, name); }, nullptr);
  std::cerr << "cohort: rtmp: webinar " << webinar_id << " is publishing ("
            << (session ? "session " + std::to_string(*session) : std::string("ad hoc")) << ")\n";
  return id;
}

bool stream_ingest::transcode_instead(const std::string& ingest_id, std::uint16_t rtmp_port) {
  std::shared_ptr<live_stream> s;
  std::uint64_t generation = 0;
  {
    std::lock_guard lock(mutex_);
    const auto it = by_ingest_.find(ingest_id);
    if (it == by_ingest_.end()) return false;
    s = it->second;
    generation = ++s->generation;  // from now on, the old ffmpeg's exit is not the stream's end
  }
  std::shared_ptr<child_process> next;
  try {
    next = start_ffmpeg(ingest_id, rtmp_port, true, generation);
  } catch (const std::exception& e) {
    std::cerr << "cohort: streaming: " << e.what() << "\n";
    return false;
  }
  std::shared_ptr<child_process> old;
  {
    std::lock_guard lock(mutex_);
    old = std::exchange(s->ffmpeg, std::move(next));
  }
  if (old) old->stop(std::chrono::milliseconds(500));
  return true;
}

std::optional<std::int64_t> stream_ingest::authorize_publish(const std::string& stream_key) {
  const auto key = stream_key.substr(0, stream_key.find('?'));  // OBS may append ?query parameters
  std::optional<std::int64_t> webinar;
  {
    auto db = ctx_.readers->acquire();
    webinar = webinar_by_stream_key(*db, key);
  }
  if (!webinar) {
    std::cerr << "cohort: rtmp: refused a publish with an unknown stream key\n";
    return std::nullopt;
  }
  bool live = false;
  {
    std::lock_guard lock(mutex_);
    live = by_webinar_.count(*webinar) > 0;
  }
  if (live) {
    std::cerr << "cohort: rtmp: refused a second publisher for webinar " << *webinar << "\n";
    return std::nullopt;
  }
  return webinar;
}

void stream_ingest::end_publish(const std::string& ingest_id, bool graceful) {
  std::shared_ptr<child_process> ffmpeg;
  {
    std::lock_guard lock(mutex_);
    if (auto it = by_ingest_.find(ingest_id); it != by_ingest_.end()) ffmpeg = it->second->ffmpeg;
  }
  if (!ffmpeg) return;
  if (graceful) ffmpeg->stop_after(std::chrono::seconds(10));
  else ffmpeg->stop();
}

void stream_ingest::webinar_deleted(std::int64_t webinar_id) {
  std::shared_ptr<child_process> ffmpeg;
  {
    std::lock_guard lock(mutex_);
    last_stream_.erase(webinar_id);
    if (auto it = by_webinar_.find(webinar_id); it != by_webinar_.end()) {
      it->second->deleted = true;
      ffmpeg = it->second->ffmpeg;
    }
  }
  if (ffmpeg) return ffmpeg->stop();  // on_ffmpeg_exit removes the folder
  std::error_code ec;
  fs::remove_all(ctx_.recordings_dir / std::to_string(webinar_id), ec);
}

void stream_ingest::on_ffmpeg_exit(const std::string& ingest_id, std::uint64_t generation) {
  std::shared_ptr<live_stream> s;
  {
    std::lock_guard lock(mutex_);
    const auto it = by_ingest_.find(ingest_id);
    if (it == by_ingest_.end() || it->second->generation != generation) return;
    s = it->second;
    by_ingest_.erase(it);
    if (s->webinar_id) by_webinar_.erase(s->webinar_id);
    for (auto peer = ingest_peers_.begin(); peer != ingest_peers_.end();)
      peer = peer->second == ingest_id ? ingest_peers_.erase(peer) : std::next(peer);
  }
  finish(*s);
}

// The stream has left the ingest's maps: tell the room, close the recording.
void stream_ingest::finish(live_stream& s) {
  if (!s.webinar_id) return;
  {
    std::lock_guard lock(mutex_);
    if (s.announced) last_stream_[s.webinar_id] = {s.started_at, s.session};
  }
  if (s.deleted) {
    std::error_code ec;
    fs::remove_all(ctx_.recordings_dir / std::to_string(s.webinar_id), ec);
    std::cerr << "cohort: rtmp: webinar " << s.webinar_id << " was deleted while live: stream stopped, recording removed\n";
    return;
  }
  if (s.announced) announce(s, false);
  std::int64_t duration_ms = 0, segments = 0;
  {
    std::lock_guard lock(s.m);
    if (s.rec && s.recording_stopped) {
      const auto found = summarize_recording(s.rec->dir());
      duration_ms = found.duration_ms, segments = found.segments;
    } else if (s.rec) {
      duration_ms = s.rec->duration_ms(), segments = s.rec->segments();
    }
  }
  ctx_.writes.writer->submit(
      [w = s.webinar_id, name = s.recording, totals = recording_totals{unix_now(), duration_ms, segments}](store::database& db) {
        close_recording(db, w, name, totals);
      },
      nullptr);
  std::cerr << "cohort: rtmp: webinar " << s.webinar_id << " stopped publishing\n";
}

void stream_ingest::announce(const live_feed& s, bool live) {
  ctx_.bus->publish_state(s.webinar_id, "stream", live_room::stream_frame(live, unix_ms(), s.started_at, s.session));
}

std::optional<int> stream_ingest::session_at(std::int64_t webinar_id, std::int64_t now) {
  auto db = ctx_.readers->acquire();
  const auto w = registration::find_webinar(*db, webinar_id);
  if (!w) return std::nullopt;
  std::optional<int> best;
  std::int64_t best_distance = 0;
  for (const auto& s : w->sessions) {
    const auto open = s.starts_at - std::int64_t{ctx_.session_before_minutes} * 60;
    const auto close = s.ends_at() + std::int64_t{ctx_.session_after_minutes} * 60;
    if (now < open || now > close) continue;
    const auto distance = std::llabs(now - s.starts_at);
    if (!best || distance < best_distance) best = s.number, best_distance = distance;
  }
  return best;
}

// ---- ffmpeg's PUT / DELETE ----

// Runs on the ingest acceptor's strand, before any byte of the connection is read: only a socket
// of an ffmpeg of ours gets in, and is remembered (by its address and port) as writing that
// ffmpeg's publish.
bool stream_ingest::admit_ingest_connection(const boost::asio::ip::tcp::socket& connection) {
  boost::system::error_code ec;
  const auto remote = connection.remote_endpoint(ec);
  if (ec) return false;
  const std::pair<std::string, std::uint16_t> name{remote.address().to_string(), remote.port()};
  std::vector<std::pair<std::string, pid_t>> children;
  {
    std::lock_guard lock(mutex_);
    ingest_peers_.erase(name);  // an address and port freed by a closed connection may come back from anyone
    for (const auto& [id, s] : by_ingest_)
      if (s->ffmpeg && s->ffmpeg->running()) children.emplace_back(id, s->ffmpeg->pid());
  }
  const auto peer = peer_socket(connection);
  if (peer && peer->uid == ::getuid())
    for (const auto& [id, pid] : children)
      if (process_holds_socket(pid, peer->inode)) {
        std::lock_guard lock(mutex_);
        ingest_peers_[name] = id;
        return true;
      }
  if (ctx_.metrics) ctx_.metrics->ingest_refused.add();
  std::cerr << "cohort: streaming: refused an ingest connection that is not from an ffmpeg of this server\n";
  return false;
}

std::shared_ptr<stream_ingest::live_stream> stream_ingest::ingest_target(const http::request& req) {
  std::lock_guard lock(mutex_);
  if (const auto peer = ingest_peers_.find({req.peer_address, req.peer_port});
      peer == ingest_peers_.end() || peer->second != req.params.at(0))
    throw api_error(403, "forbidden", "this connection does not write that publish");
  const auto it = by_ingest_.find(req.params.at(0));
  if (it == by_ingest_.end()) throw api_error(404, "not_found", "no such publish");
  // Nothing is published before the relay checked the stream key.
  if (!it->second->webinar_id) throw api_error(403, "forbidden", "the publish has not been authorized");
  return it->second;
}

void stream_ingest::on_ingest_put(http::request& req, http::responder& respond) {
  auto s = ingest_target(req);
  const auto& name = req.params.at(1);
  const auto rendition = rendition_of_file(ctx_.ffmpeg, name);
  const bool main = rendition == main_rendition(ctx_.ffmpeg);  // the only one recorded
  // A recording that cannot be written (disk full) stops at what it has on disk, with one log line;
  // the live stream goes on from memory, and the next publish records again. Called under s->m.
  auto record = [&](auto&& write) {
    if (!s->rec || !main || s->recording_stopped) return;
    try {
      write(*s->rec);
    } catch (const std::exception& e) {
      s->recording_stopped = true;
      std::cerr << "cohort: streaming: recording of webinar " << s->webinar_id << " stopped at what is on disk (" << e.what()
                << "); the live stream goes on\n";
    }
  };
  if (ends_with(name, ".m3u8")) {
    auto p = parse_media_playlist(req.body);
    if (!p) throw api_error(400, "bad_request", "not a media playlist");
    if (main) {
      std::lock_guard lock(s->m);
      record([&](recorder& r) { r.on_playlist(*p); });
    }
    s->store.update_playlist(rendition, std::move(*p));
    // The first playable playlist: the stream is live for viewers (told once, whichever PUT gets here first).
    if (main && !s->announced && s->store.current(rendition) && !s->announced.exchange(true)) announce(*s, true);
  } else if (ends_with(name, ".mp4")) {
    std::lock_guard lock(s->m);
    record([&](recorder& r) { r.put_init(req.body); });
    s->store.put_init(rendition, name, std::move(req.body));
  } else {
    std::lock_guard lock(s->m);
    record([&](recorder& r) { r.put_segment(name, req.body); });
    s->store.put_segment(rendition, name, std::move(req.body));
  }
  respond(response::no_content());
}

void stream_ingest::on_ingest_delete(http::request& req, http::responder& respond) {
  auto s = ingest_target(req);
  s->store.remove(rendition_of_file(ctx_.ffmpeg, req.params.at(1)), req.params.at(1));
  respond(response::no_content());
}

}  // namespace cohort::streaming

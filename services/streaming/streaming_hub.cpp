#include "streaming/streaming_hub.hpp"

#include "chat/room_state.hpp"
#include "common/bytes.hpp"
#include "common/errors.hpp"
#include "metrics/metrics.hpp"
#include "gateway/auth.hpp"
#include "registration/registration_store.hpp"
#include "common/rfc3339.hpp"
#include "registration/validation.hpp"
#include "registration/webinar_store.hpp"
#include "streaming/peer_process.hpp"
#include "streaming/stream_keys.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/json.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <iostream>

namespace cohort::streaming {
namespace json = boost::json;
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

// For URIs in a playlist: everything but unreserved characters percent-encoded.
std::string url_encode(std::string_view s) {
  static constexpr char hex_digits[] = "0123456789ABCDEF";
  std::string out;
  for (const unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex_digits[c >> 4];
      out += hex_digits[c & 15];
    }
  }
  return out;
}

}  // namespace

struct streaming_hub::live_stream {
  explicit live_stream(std::size_t window) : store(window * 2 + 4, 256u << 20) {}
  std::string ingest_id;
  std::int64_t webinar_id = 0;  // 0 until the publish named a valid key
  std::optional<int> session;
  std::int64_t started_at = 0;
  std::string recording;        // its folder name under recordings/<webinar>/
  segment_store store;
  std::mutex m;                 // the recorder (ffmpeg's PUTs may come on several connections)
  std::unique_ptr<recorder> rec;
  std::shared_ptr<child_process> ffmpeg;
  std::uint64_t generation = 0;  // of `ffmpeg`: the exit of one it replaced ends nothing
  bool announced = false;
  bool deleted = false;          // the series was deleted while live: nothing of it is kept
};

streaming_hub::streaming_hub(hub_context ctx)
    : ctx_(std::move(ctx)),
      gate_(ctx_.authenticate, ctx_.readers, ctx_.url_secret),
      replays_(ctx_.writes, ctx_.readers, ctx_.recordings_dir, gate_) {}

streaming_hub::~streaming_hub() = default;

std::uint16_t streaming_hub::start_ingest() {
  ingest_routes_ = std::make_unique<http::router>(nullptr, http::authenticator{});
  auto bind = [this](void (streaming_hub::*fn)(http::request&, http::responder&)) { return registration::api_handler(this, fn); };
  ingest_routes_->add(http::verb::put, "/ingest/{ingest}/{file}", {}, bind(&streaming_hub::on_ingest_put));
  ingest_routes_->add(http::verb::del, "/ingest/{ingest}/{file}", {}, bind(&streaming_hub::on_ingest_delete));
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

void streaming_hub::stop() {
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

void streaming_hub::close_interrupted_recordings() {
  ctx_.writes.writer->submit(
      [dir = ctx_.recordings_dir](store::database& db) {
        struct open_recording {
          std::int64_t id, webinar_id, started_at;
          std::string dir;
        };
        std::vector<open_recording> open;
        {
          auto st = db.prepare("SELECT id, webinar_id, started_at, dir FROM recordings WHERE ended_at IS NULL");
          while (st.step()) open.push_back({st.int64(0), st.int64(1), st.int64(2), st.text(3)});
        }
        for (const auto& r : open) {
          const auto found = summarize_recording(dir / std::to_string(r.webinar_id) / r.dir);
          const auto ended_at = found.last_write ? std::max(*found.last_write, r.started_at) : r.started_at + found.duration_ms / 1000;
          db.prepare("UPDATE recordings SET ended_at = ?, duration_ms = ?, segments = ? WHERE id = ?")
              .bind(1, ended_at).bind(2, found.duration_ms).bind(3, found.segments).bind(4, r.id).run();
          std::cerr << "cohort: streaming: closed recording " << r.id << " of webinar " << r.webinar_id
                    << " left open by a crash (" << found.segments << " segments)\n";
        }
      },
      nullptr);
}

std::vector<std::pair<std::int64_t, std::string>> streaming_hub::stream_state_frames() {
  std::map<std::int64_t, std::pair<std::int64_t, std::optional<int>>> last;  // webinar -> its last stream's start, session
  {
    auto db = ctx_.readers->acquire();
    auto st = db->prepare("SELECT webinar_id, started_at, session_number FROM recordings ORDER BY started_at");
    while (st.step())
      last[st.int64(0)] = {st.int64(1), st.is_null(2) ? std::nullopt : std::optional<int>(static_cast<int>(st.int64(2)))};
  }
  std::vector<std::pair<std::int64_t, std::string>> out;
  std::lock_guard lock(mutex_);
  for (const auto& [webinar, s] : by_webinar_)
    if (s->announced) out.emplace_back(webinar, chat::stream_frame(true, unix_ms(), s->started_at, s->session));
  for (const auto& [webinar, stream] : last)
    if (auto it = by_webinar_.find(webinar); it == by_webinar_.end() || !it->second->announced)
      out.emplace_back(webinar, chat::stream_frame(false, unix_ms(), stream.first, stream.second));
  return out;
}

// ---- the relay's side ----

std::shared_ptr<child_process> streaming_hub::start_ffmpeg(const std::string& id, std::uint16_t rtmp_port, bool transcode,
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

std::string streaming_hub::begin_publish(std::int64_t webinar_id, std::uint16_t rtmp_port) {
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
      [w = webinar_id, session, now, name = s->recording](store::database& db) {
        auto st = db.prepare(
            "INSERT INTO recordings (webinar_id, session_number, started_at, dir) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (webinar_id, dir) DO UPDATE SET ended_at = NULL");
        st.bind(1, w).bind(2, session ? std::optional<std::int64_t>(*session) : std::nullopt).bind(3, now).bind(4, name).run();
      },
      nullptr);
  std::cerr << "cohort: rtmp: webinar " << webinar_id << " is publishing ("
            << (session ? "session " + std::to_string(*session) : std::string("ad hoc")) << ")\n";
  return id;
}

bool streaming_hub::transcode_instead(const std::string& ingest_id, std::uint16_t rtmp_port) {
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

std::optional<std::int64_t> streaming_hub::authorize_publish(const std::string& stream_key) {
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

void streaming_hub::end_publish(const std::string& ingest_id, bool graceful) {
  std::shared_ptr<child_process> ffmpeg;
  {
    std::lock_guard lock(mutex_);
    if (auto it = by_ingest_.find(ingest_id); it != by_ingest_.end()) ffmpeg = it->second->ffmpeg;
  }
  if (!ffmpeg) return;
  if (graceful) ffmpeg->stop_after(std::chrono::seconds(10));
  else ffmpeg->stop();
}

void streaming_hub::webinar_deleted(std::int64_t webinar_id) {
  std::shared_ptr<child_process> ffmpeg;
  {
    std::lock_guard lock(mutex_);
    viewers_.erase(webinar_id);
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

void streaming_hub::on_ffmpeg_exit(const std::string& ingest_id, std::uint64_t generation) {
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

// The stream has left the hub's maps: tell the room, close the recording.
void streaming_hub::finish(live_stream& s) {
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
    if (s.rec) duration_ms = s.rec->duration_ms(), segments = s.rec->segments();
  }
  ctx_.writes.writer->submit(
      [w = s.webinar_id, name = s.recording, duration_ms, segments, now = unix_now()](store::database& db) {
        db.prepare("UPDATE recordings SET ended_at = ?, duration_ms = ?, segments = ? WHERE webinar_id = ? AND dir = ?")
            .bind(1, now).bind(2, duration_ms).bind(3, segments).bind(4, w).bind(5, name).run();
      },
      nullptr);
  std::cerr << "cohort: rtmp: webinar " << s.webinar_id << " stopped publishing\n";
}

void streaming_hub::announce(const live_stream& s, bool live) {
  ctx_.bus->publish_state(s.webinar_id, "stream", chat::stream_frame(live, unix_ms(), s.started_at, s.session));
}

std::optional<int> streaming_hub::session_at(std::int64_t webinar_id, std::int64_t now) {
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

// ---- ingest (ffmpeg's PUT / DELETE) ----

// Runs on the ingest acceptor's strand, before any byte of the connection is read: only a socket
// of an ffmpeg of ours gets in, and is remembered (by its address and port) as writing that
// ffmpeg's publish.
bool streaming_hub::admit_ingest_connection(const boost::asio::ip::tcp::socket& connection) {
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

std::shared_ptr<streaming_hub::live_stream> streaming_hub::ingest_target(const http::request& req) {
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

void streaming_hub::on_ingest_put(http::request& req, http::responder& respond) {
  auto s = ingest_target(req);
  const auto& name = req.params.at(1);
  const auto rendition = rendition_of_file(ctx_.ffmpeg, name);
  const bool main = rendition == main_rendition();  // the only one recorded
  if (ends_with(name, ".m3u8")) {
    auto p = parse_media_playlist(req.body);
    if (!p) throw api_error(400, "bad_request", "not a media playlist");
    if (main) {
      std::lock_guard lock(s->m);
      if (s->rec) s->rec->on_playlist(*p);
    }
    s->store.update_playlist(rendition, std::move(*p));
    if (main && !s->announced && s->store.current(rendition)) {
      s->announced = true;  // the first playable playlist: the stream is live for viewers
      announce(*s, true);
    }
  } else if (ends_with(name, ".mp4")) {
    std::lock_guard lock(s->m);
    if (s->rec && main) s->rec->put_init(req.body);
    s->store.put_init(rendition, name, std::move(req.body));
  } else {
    std::lock_guard lock(s->m);
    if (s->rec && main) s->rec->put_segment(name, req.body);
    s->store.put_segment(rendition, name, std::move(req.body));
  }
  respond(response::no_content());
}

void streaming_hub::on_ingest_delete(http::request& req, http::responder& respond) {
  auto s = ingest_target(req);
  s->store.remove(rendition_of_file(ctx_.ffmpeg, req.params.at(1)), req.params.at(1));
  respond(response::no_content());
}

// ---- public routes ----

void streaming_hub::add_routes(http::router& r) {
  using http::access;
  using http::verb;
  auto bind = [this](void (streaming_hub::*fn)(http::request&, http::responder&)) { return registration::api_handler(this, fn); };
  r.add(verb::post, "/api/webinars/{id}/stream-key", {access::organizer, false}, bind(&streaming_hub::rotate_key));
  r.add(verb::get, "/api/webinars/{id}/stream-key", {access::organizer, false}, bind(&streaming_hub::get_key));
  r.add(verb::get, "/api/webinars/{id}/stream", {access::anyone, false}, bind(&streaming_hub::status));
  r.add(verb::get, "/live/{id}/index.m3u8", {access::anyone, false}, bind(&streaming_hub::playlist));
  r.add(verb::get, "/live/{id}/{file}", {access::anyone, false}, bind(&streaming_hub::segment));
  replays_.add_routes(r);
}

void streaming_hub::rotate_key(http::request& req, http::responder& respond) {
  const auto webinar_id = req.id_param(0);
  registration::queue_write<std::string>(
      ctx_.writes, respond, [webinar_id](store::database& db) { return rotate_stream_key(db, webinar_id); },
      [this](std::string& key) { return response::json(201, json::object{{"rtmp_url", ctx_.rtmp_public_url}, {"stream_key", key}}); });
}

void streaming_hub::get_key(http::request& req, http::responder& respond) {
  auto db = ctx_.readers->acquire();
  const auto key = stream_key_of(*db, req.id_param(0));
  if (!key) throw common::not_found("this webinar has no stream key yet: POST to create one");
  respond(response::json(200, json::object{{"rtmp_url", ctx_.rtmp_public_url}, {"stream_key", *key}}));
}

void streaming_hub::status(http::request& req, http::responder& respond) {
  const auto webinar_id = req.id_param(0);
  {
    auto db = ctx_.readers->acquire();
    if (!registration::find_webinar(*db, webinar_id)) throw common::not_found("no such webinar");
  }
  json::object out{{"live", false}, {"started_at", nullptr}, {"session", nullptr}, {"viewers", 0}};
  bool live = false;
  {
    std::lock_guard lock(mutex_);
    const auto it = by_webinar_.find(webinar_id);
    live = it != by_webinar_.end() && it->second->announced;
  }
  // Asked outside the hub's lock: the chat side has its own.
  const auto present = live && ctx_.present_in_room ? ctx_.present_in_room(webinar_id) : std::vector<std::int64_t>{};
  std::lock_guard lock(mutex_);
  if (auto it = by_webinar_.find(webinar_id); it != by_webinar_.end() && it->second->announced) {
    out["live"] = true;
    out["started_at"] = common::format_rfc3339(it->second->started_at);
    if (it->second->session) out["session"] = *it->second->session;
  } else if (auto last = last_stream_.find(webinar_id); last != last_stream_.end()) {
    out["started_at"] = common::format_rfc3339(last->second.first);  // the last stream's, as in stream.status
    if (last->second.second) out["session"] = *last->second.second;
  }
  // Playlist viewers of the last 30 s (the primary serves every playlist) and, while live, the
  // registrants in the live room on any node, each person once.
  if (auto v = viewers_.find(webinar_id); v != viewers_.end()) {
    out["viewers"] = v->second.count(present, std::chrono::steady_clock::now());
    if (v->second.empty()) viewers_.erase(v);
  } else {
    out["viewers"] = viewer_tally().count(present, {});
  }
  respond(response::json(200, out));
}

void streaming_hub::note_watching(std::int64_t webinar_id, const http::identity& who) {
  if (who.role != http::identity::kind::registrant || !ctx_.on_watching) return;
  const auto minute = unix_now() / 60;
  {
    std::lock_guard lock(mutex_);
    auto& last = watching_minute_[{webinar_id, who.registration_id}];
    if (last == minute) return;
    last = minute;
  }
  ctx_.on_watching(webinar_id, who.registration_id);
}

void streaming_hub::playlist(http::request& req, http::responder& respond) {
  if (ctx_.ffmpeg.extra_360p) return master_playlist(req, respond);
  media_playlist_for(req, respond, main_rendition());
}

// One rendition's live playlist, for a viewer with a token.
void streaming_hub::media_playlist_for(http::request& req, http::responder& respond, const std::string& rendition) {
  const auto webinar_id = req.id_param(0);
  const auto who = gate_.check(req, webinar_id);
  std::optional<media_playlist> p;
  std::string prefix;
  {
    std::lock_guard lock(mutex_);
    if (auto it = by_webinar_.find(webinar_id); it != by_webinar_.end()) {
      p = it->second->store.current(rendition);
      prefix = it->second->ingest_id + "-";
    }
    if (p) note_viewer(webinar_id, who, req);
  }
  if (!p) throw common::not_found("the stream is not live");
  note_watching(webinar_id, who);
  // ffmpeg names files the same in every publish: the publish's id in the URL keeps a cache from
  // mixing one stream's segments into the next.
  const auto query = gate_.signed_query(webinar_id, "live");
  respond(playlist_response(render_live(*p, [&](std::string_view uri) { return prefix + std::string(uri) + "?" + query; })));
}

// With two renditions, index.m3u8 lists them; players poll the one they chose, with the
// viewer's token (it is how a viewer is counted), so the URIs carry it.
void streaming_hub::master_playlist(http::request& req, http::responder& respond) {
  const auto webinar_id = req.id_param(0);
  const auto who = gate_.check(req, webinar_id);
  std::vector<rendition_info> variants;
  {
    std::lock_guard lock(mutex_);
    if (auto it = by_webinar_.find(webinar_id); it != by_webinar_.end() && it->second->store.current(main_rendition())) {
      const auto& store = it->second->store;
      for (const std::string r : {"main", "360p"}) {
        const auto p = store.current(r);
        if (!p) continue;
        // The peak bit rate of the segments held (ffmpeg cannot know a passed-through one's).
        double peak = 0;
        for (const auto& seg : p->segments)
          if (const auto bytes = store.get(r, seg.uri); bytes && seg.duration > 0)
            peak = std::max(peak, double(bytes->size()) * 8 / seg.duration);
        rendition_info v{r + ".m3u8", std::max<std::int64_t>(std::int64_t(peak), 1), 0, 0, ""};
        if (r == "360p") v.width = 640, v.height = 360;
        variants.push_back(std::move(v));
      }
      note_viewer(webinar_id, who, req);
    }
  }
  if (variants.empty()) throw common::not_found("the stream is not live");
  note_watching(webinar_id, who);
  const auto token = url_encode(req.token());
  respond(playlist_response(render_master(variants, [&](std::string_view uri) { return std::string(uri) + "?token=" + token; })));
}

// Under mutex_.
void streaming_hub::note_viewer(std::int64_t webinar_id, const http::identity& who, const http::request& req) {
  auto key = who.role == http::identity::kind::registrant ? viewer_tally::viewer(who.registration_id)
                                                          : viewer_tally::viewer(common::hex(http::sha256(req.token())).substr(0, 16));
  viewers_[webinar_id].fetched(std::move(key), std::chrono::steady_clock::now());
}

void streaming_hub::segment(http::request& req, http::responder& respond) {
  const auto webinar_id = req.id_param(0);
  const auto& file = req.params.at(1);
  if (ctx_.ffmpeg.extra_360p && ends_with(file, ".m3u8")) {
    const auto rendition = rendition_of_file(ctx_.ffmpeg, file);
    if (rendition.empty()) throw common::not_found("no such rendition");
    return media_playlist_for(req, respond, rendition);
  }
  gate_.check_signature(req, webinar_id, "live");
  const std::string_view name(file);
  const auto dash = name.find('-');
  segment_store::served_file f;
  if (dash != std::string_view::npos) {
    const auto stored_name = name.substr(dash + 1);
    std::lock_guard lock(mutex_);
    if (auto it = by_webinar_.find(webinar_id); it != by_webinar_.end() && it->second->ingest_id == name.substr(0, dash))
      f = it->second->store.find(rendition_of_file(ctx_.ffmpeg, stored_name), stored_name);
  }
  if (!f) throw common::not_found("no such segment (it may have left the live window)");
  response res;
  res.content_type.clear();  // it is in the prebuilt headers
  if (req.if_none_match == f.etag()) {
    res.status = 304;
    res.headers = *f.headers;
    return respond(std::move(res));
  }
  // The headers were built when the segment arrived: the answer shares them and the bytes.
  res.prebuilt_headers = std::move(f.header_lines);
  res.shared_body = std::move(f.bytes);
  res.body_fd = std::move(f.file);
  respond(std::move(res));
}

}  // namespace cohort::streaming

// cohort: one binary that serves the registration pages and API on the embedded default
// (SQLite under the data dir, no other service needed).
#include "accounts/organizer_cli.hpp"
#include "accounts/session_api.hpp"
#include "attendance/attendance_api.hpp"
#include "bus/redis_url.hpp"
#include "common/bytes.hpp"
#include "email/email_api.hpp"
#include "email/email_service.hpp"
#include "chat/chat_hub.hpp"
#include "chat/chat_store.hpp"
#include "drops/drop_store.hpp"
#include "drops/drops_api.hpp"
#include "streaming/rtmp_relay.hpp"
#include "streaming/streaming_hub.hpp"
#include "chat/redis_bus.hpp"
#include "config/config.hpp"
#include "gateway/auth.hpp"
#include "gateway/http_server.hpp"
#include "gateway/open_files_limit.hpp"
#include "gateway/router.hpp"
#include "gateway/static_site.hpp"
#include "metrics/metrics.hpp"
#include "registration/demo_seed.hpp"
#include "registration/registration_api.hpp"
#include "common/rfc3339.hpp"
#include "store/migrations.hpp"
#include "store/reader_pool.hpp"
#include "store/sqlite_writer.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/json.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <thread>

namespace fs = std::filesystem;
namespace net = boost::asio;
using namespace cohort;

namespace {

// A secret file others can read is refused, not repaired: whoever could read it may have a copy.
struct secret_file_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

void require_private(const fs::path& file) {
  struct stat st {};
  if (::stat(file.c_str(), &st) != 0) return;  // absent: created below with 0600
  if ((st.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    throw secret_file_error(file.string() + " has mode " + mode + ", readable by others; it must be 0600 (chmod 600 " +
                            file.string() + ", and replace the secret if others may have read it)");
  }
}

// Reads a secret kept in the data dir, or creates it (mode 0600) on first start.
std::string load_or_create_secret(const fs::path& file, bool& created) {
  created = false;
  require_private(file);
  if (std::ifstream in{file}; in) {
    std::string value;
    std::getline(in, value);
    if (!value.empty()) return value;
  }
  const auto value = common::hex(common::random_bytes(32));
  const auto old_mask = ::umask(077);
  {
    std::ofstream out(file, std::ios::trunc);
    out << value << "\n";
    if (!out) throw std::runtime_error("cannot write " + file.string());
  }
  ::umask(old_mask);
  fs::permissions(file, fs::perms::owner_read | fs::perms::owner_write, fs::perm_options::replace);
  created = true;
  return value;
}

// A folder of the repository (web/, config/email/) next to the build folder the binary is in,
// when it holds `probe`; else the same folder under the working directory.
fs::path beside_build(const fs::path& relative, const fs::path& probe) {
  std::error_code ec;
  const auto exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec && fs::exists(exe.parent_path().parent_path() / relative / probe)) return exe.parent_path().parent_path() / relative;
  return fs::current_path() / relative;
}

fs::path default_web_root() { return beside_build("web", "index.html"); }

// The host of a validated http(s):// URL, without port or path.
std::string url_host(const std::string& url) {
  const auto start = url.find("://") + 3;
  const auto end = url.find_first_of(":/", start);
  return url.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

std::string base_url(const listen_address& listen, std::uint16_t port) {
  std::string host = listen.host;
  if (host == "0.0.0.0" || host == "::") host = "localhost";
  if (host.find(':') != std::string::npos) host = "[" + host + "]";
  return "http://" + host + ":" + std::to_string(port);
}

chat::room_options room_options_from(const chat_config& c) {
  chat::room_options o;
  o.flood.burst = c.flood_messages;
  o.flood.window = std::chrono::milliseconds(c.flood_window_ms);
  o.flood.penalty = std::chrono::seconds(c.flood_block_seconds);
  o.history.max_messages = static_cast<std::size_t>(c.history_messages);
  o.history.max_age_seconds = std::int64_t{c.history_hours} * 3600;
  return o;
}

// The state frames the database holds for a webinar's room: running mutes, released drops, seen markers.
std::vector<std::string> room_state_frames(store::database& db, std::int64_t webinar, std::int64_t now) {
  auto frames = chat::mute_frames(db, webinar, now);
  for (auto& f : drops::state_frames(db, webinar)) frames.push_back(std::move(f));
  return frames;
}

// What the primary's rooms write: the transcript and attendance of every node (writes that the
// queue cannot take are dropped with a log line; the chat never waits for the database), and
// the state a room starts from.
chat::room_records primary_records(const registration::write_path& writes, store::reader_pool& readers) {
  chat::room_records r;
  r.transcript = [writes](const chat::transcript_entry& e) {
    if (!writes.writer->submit([e](store::database& db) { chat::insert_transcript(db, e); }, nullptr))
      std::cerr << "cohort: chat transcript write dropped (queue full)\n";
  };
  r.attendance = [writes](std::int64_t webinar, std::vector<std::int64_t> ids, std::int64_t minute) {
    if (!writes.writer->submit([webinar, ids = std::move(ids), minute](store::database& db) {
          drops::record_attendance(db, webinar, ids, minute);
        }, nullptr))
      std::cerr << "cohort: attendance write dropped (queue full)\n";
  };
  r.initial_state = [&readers](std::int64_t webinar) {
    auto db = readers.acquire();
    return room_state_frames(*db, webinar, common::unix_now());
  };
  return r;
}

// After the bus (re)connected: Redis may have come back empty, so the primary puts back what
// edges rely on — the revocation list (then its generation marker, which edges wait for before
// they admit anyone) and every webinar's room state. Repeats are harmless.
void republish(store::reader_pool& readers, chat::chat_bus& bus) {
  auto db = readers.acquire();
  for (auto& entry : chat::revocation_entries(*db)) bus.revoke(std::move(entry));
  bus.revocations_published();
  const auto now = common::unix_now();
  auto webinars = db->prepare("SELECT id FROM webinars");
  while (webinars.step()) {
    const auto id = webinars.int64(0);
    for (auto& f : room_state_frames(*db, id, now)) {
      auto field = chat::state_field(boost::json::parse(f).as_object());  // before f is moved from
      bus.publish_state(id, std::move(field), std::move(f));
    }
  }
}

// Registers every route the server has; shared by `serve` and `cohort routes`.
// The primary's APIs besides the registration API, for add_all_routes.
struct feature_apis {
  accounts::session_api& sessions;
  chat::chat_hub& chat;
  drops::drops_api& drops;
  streaming::streaming_hub& streaming;
  attendance::attendance_api& attendance;
  email::email_api& email;
};

void add_all_routes(http::router& routes, registration::registration_api& api, const feature_apis& more, const fs::path& web_root,
                    std::function<bool()> ready, const metrics::registry& metrics) {
  auto& [sessions, chat, drops, streaming, attendance, email] = more;
  http::add_ops_routes(routes, ready, metrics);
  sessions.add_routes(routes);
  streaming.add_routes(routes);  // before the pages: /live/{id}/index.m3u8 is more specific than nothing, /live/{id} stays a page
  http::add_static_routes(routes, web_root);
  api.add_routes(routes);
  chat.add_routes(routes);
  drops.add_routes(routes);
  attendance.add_routes(routes);
  email.add_routes(routes);
}

// What OBS is told: the configured URL, else rtmp://<public host or listen host>:<port>/live.
std::string rtmp_url_for(const config& cfg, std::uint16_t port) {
  if (!cfg.streaming.rtmp_public_url.empty()) return cfg.streaming.rtmp_public_url;
  std::string host = cfg.streaming.rtmp_listen.host;
  if (!cfg.server.public_url.empty()) host = url_host(cfg.server.public_url);
  if (host == "0.0.0.0" || host == "::") host = "localhost";
  if (host.find(':') != std::string::npos) host = "[" + host + "]";
  return "rtmp://" + host + ":" + std::to_string(port) + "/live";
}

// Browsers may open /ws from the public URL's origin (or, without one, the listen address's)
// and from the configured extra origins.
std::vector<std::string> allowed_origins(const config& cfg, std::uint16_t port) {
  std::vector<std::string> out = cfg.server.allowed_origins;
  if (!cfg.server.public_url.empty()) {
    const auto& url = cfg.server.public_url;
    const auto scheme_end = url.find("://");
    const auto path = url.find('/', scheme_end + 3);
    out.push_back(url.substr(0, path));
  } else {
    const auto p = std::to_string(port);
    out.push_back(base_url(cfg.server.listen, port));
    out.push_back("http://127.0.0.1:" + p);
    out.push_back("http://localhost:" + p);
  }
  return out;
}

struct secrets {
  std::string admin_token;
  std::string admin_token_note;  // where a generated token is kept, to tell the operator
  std::optional<http::key_ring> keys;  // primary: every key, derived from the master secret
  std::string token_public_key;        // edge: the 32 bytes of the primary's token public key
};

// The master secret: auth.token_secret, else data_dir/token-secret (created on first start).
std::string master_secret(const config& cfg, bool create) {
  if (!cfg.auth.token_secret.empty()) return cfg.auth.token_secret;
  const auto file = fs::path(cfg.storage.data_dir) / "token-secret";
  if (!create && !fs::exists(file)) throw std::runtime_error("no " + file.string() + " (start the primary once, or set auth.token_secret)");
  bool created = false;
  return load_or_create_secret(file, created);
}

// `cohort keys public`: what an edge's auth.token_public_key must be.
int print_public_key(const config& cfg) {
  try {
    std::cout << common::hex(http::key_ring::derive(master_secret(cfg, false)).token_public_key) << "\n";
    return 0;
  } catch (const secret_file_error& e) {
    std::cerr << "cohort: " << e.what() << "\n";
    return 2;
  }
}

// The organizer token (flag, env or generated in the data dir) and the registrant-token keys.
// An edge has no data dir of its own: both come from its configuration (or env), and of the
// token keys it gets only the public one.
std::optional<secrets> load_secrets(const config& cfg, bool edge) try {
  secrets out;
  out.admin_token = cfg.auth.admin_token;
  if (out.admin_token.empty())
    if (const char* env = std::getenv("COHORT_ADMIN_TOKEN"); env && *env) out.admin_token = env;
  if (!out.admin_token.empty() && out.admin_token.size() < 16) {
    std::cerr << "config: COHORT_ADMIN_TOKEN must be at least 16 characters\n";
    return std::nullopt;
  }
  const fs::path data_dir = cfg.storage.data_dir;
  if (out.admin_token.empty() && !edge) {
    bool created = false;
    out.admin_token = load_or_create_secret(data_dir / "admin-token", created);
    out.admin_token_note = (created ? "generated, stored in " : "stored in ") + fs::absolute(data_dir / "admin-token").lexically_normal().string();
  }
  if (edge) {
    out.token_public_key = http::parse_public_key(cfg.auth.token_public_key);  // validated: 64 hex digits
  } else {
    out.keys = http::key_ring::derive(master_secret(cfg, true));
  }
  return out;
} catch (const secret_file_error& e) {
  std::cerr << "cohort: " << e.what() << "\n";
  return std::nullopt;
}

// Runs the io_context until SIGINT/SIGTERM, then stops gracefully: stop accepting, let in-flight
// requests finish (their writes commit), then stop the loop; a hard deadline keeps it under 5 s.
void run_until_signal(net::io_context& ioc, int threads, http::http_server& server, chat::chat_bus& bus,
                      std::function<void()> on_stop = {}) {
  net::signal_set signals(ioc, SIGINT, SIGTERM);
  net::steady_timer drain(ioc);
  std::chrono::steady_clock::time_point stop_started;
  std::function<void()> wait_for_drain = [&] {
    const bool drained = server.open_sessions() == 0;
    if (drained || std::chrono::steady_clock::now() - stop_started > std::chrono::milliseconds(4000)) {
      ioc.stop();
      return;
    }
    drain.expires_after(std::chrono::milliseconds(20));
    drain.async_wait([&](boost::system::error_code) { wait_for_drain(); });
  };
  signals.async_wait([&](boost::system::error_code ec, int) {
    if (ec) return;
    std::cout << "cohort: stopping" << std::endl;
    stop_started = std::chrono::steady_clock::now();
    auto close_down = [&] {
      server.stop();
      bus.stop();
      wait_for_drain();
    };
    if (!on_stop) return close_down();
    // First, and a moment before the connections and the bus close: what it sends (a live
    // stream's end) still reaches the rooms' clients and Redis.
    on_stop();
    drain.expires_after(std::chrono::milliseconds(250));
    drain.async_wait([close_down](boost::system::error_code) { close_down(); });
  });
  std::vector<std::thread> pool;
  for (int i = 1; i < threads; ++i) pool.emplace_back([&ioc] { ioc.run(); });
  ioc.run();
  for (auto& t : pool) t.join();
  // What the stop posted may not have run before ioc.stop() (the bus dropping its rooms' feeds,
  // which ends their reference cycle): run the handlers that are ready, so nothing is left behind.
  ioc.restart();
  ioc.poll();
}

std::unique_ptr<chat::chat_bus> make_bus(const config& cfg, net::io_context& ioc) {
  if (cfg.bus.redis_url.empty()) return chat::make_local_bus();
  try {
    return chat::make_redis_bus(ioc, bus::parse_redis_url(cfg.bus.redis_url), static_cast<std::size_t>(cfg.chat.history_messages));
  } catch (const std::invalid_argument& e) {
    std::cerr << "config: bus.redis_url " << e.what() << "\n";
    return nullptr;
  }
}

int io_threads(const config& cfg) {
  return cfg.server.io_threads > 0 ? cfg.server.io_threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

http::server_options server_options_from(const config& cfg) {
  http::server_options o;
  o.host = cfg.server.listen.host;
  o.port = cfg.server.listen.port;
  o.body_max_bytes = cfg.limits.body_max_bytes;
  o.header_max_bytes = cfg.limits.header_max_bytes;
  o.read_timeout_seconds = cfg.limits.read_timeout_seconds;
  o.keepalive_timeout_seconds = cfg.limits.keepalive_timeout_seconds;
  o.ws_queue_max_bytes = static_cast<std::size_t>(cfg.chat.ws_queue_max_bytes);
  o.uploads_max = cfg.limits.uploads_max;
  o.upload_min_bytes_per_second = static_cast<std::uint64_t>(cfg.limits.upload_min_bytes_per_second);
  o.upload_rate_window_seconds = cfg.limits.upload_rate_window_seconds;
  o.connections_per_ip = cfg.limits.connections_per_ip;
  o.trusted_proxies = cfg.server.trusted_proxies;
  o.hsts = cfg.server.public_url.rfind("https://", 0) == 0;
  return o;
}

// Upload bodies are spooled here; what a crash left behind is removed at start.
fs::path fresh_upload_dir(const fs::path& data_dir) {
  const auto dir = data_dir / "uploads";
  std::error_code ec;
  fs::remove_all(dir, ec);
  fs::create_directories(dir);
  return dir;
}

fs::path web_root_of(const config& cfg) {
  return cfg.server.web_root.empty() ? default_web_root() : fs::path(cfg.server.web_root);
}

// An edge: WebSockets and pages, no database. Tokens are checked by signature and against the
// cluster's revocation list; /api/... is redirected to the primary (307 keeps method and body).
int serve_edge(const config& cfg, const secrets& keys) {
  const http::token_verifier tokens(keys.token_public_key);  // verifies, cannot mint; no c1
  metrics::registry metrics;
  const int threads = io_threads(cfg);
  net::io_context ioc(threads);
  // No database here, so no console sessions: an organizer uses the admin token on an edge.
  auto authenticate = [&](const http::request&, std::string_view token) {
    return http::authenticate(token, keys.admin_token, tokens);
  };
  http::router routes(&metrics, authenticate);
  http::http_server server(ioc, server_options_from(cfg), routes, &metrics);
  std::uint16_t port = 0;
  try {
    port = server.listen();
  } catch (const std::exception& e) {
    std::cerr << "cohort: cannot listen on " << cfg.server.listen.host << ":" << cfg.server.listen.port << ": " << e.what() << "\n";
    return 1;
  }
  auto bus = make_bus(cfg, ioc);
  if (!bus) return 2;
  chat::chat_hub chat({&ioc, bus.get(), {}, nullptr, true, authenticate, allowed_origins(cfg, port), &metrics,
                       room_options_from(cfg.chat), {}, static_cast<std::size_t>(cfg.chat.sockets_per_token)});
  bus->watch_node({[&chat](std::vector<std::string> entries, bool complete) { chat.revoked(std::move(entries), complete); }, {}, {},
                   [&chat] { chat.revocations_unconfirmed(); }});
  server.set_upgrade_handler([&chat](http::request& req) { return chat.upgrade(req); });
  const auto web_root = web_root_of(cfg);
  // Not ready without Redis, nor while the revocation list is not confirmed by the primary.
  http::add_ops_routes(routes, [&bus, &chat] { return bus->available() && chat.revocations_confirmed(); }, metrics);
  http::add_static_routes(routes, web_root);
  chat.add_routes(routes);
  std::string primary = cfg.server.primary_url;
  while (!primary.empty() && primary.back() == '/') primary.pop_back();
  routes.set_fallback("api", [primary](const http::request& req) {
    auto res = http::error_response(307, "moved", "the API is served by the primary");
    res.headers.emplace_back("Location", primary + req.target);
    return res;
  });
  server.start_accepting();
  std::cout << "cohort: edge listening on " << base_url(cfg.server.listen, port) << "\n";
  std::cout << "cohort: the primary is " << primary << "\n" << std::flush;
  run_until_signal(ioc, threads, server, *bus);
  std::cout << "cohort: stopped" << std::endl;
  return 0;
}

// The primary: the database, the organizer API, the drop schedule, and every room's records.
int serve_primary(const config& cfg, const secrets& keys) {
  const fs::path data_dir = cfg.storage.data_dir;
  const auto& ring = *keys.keys;
  const http::token_codec tokens(ring);
  metrics::registry metrics;
  std::atomic<bool> ready{false};
  const auto db_path = (data_dir / "cohort.db").string();
  store::open_options db_options;
  db_options.synchronous_full = cfg.storage.synchronous == "full";
  db_options.busy_timeout_ms = cfg.storage.busy_timeout_ms;
  store::database db(db_path, db_options);
  store::migrate(db);
  if (cfg.demo)
    if (auto id = registration::seed_demo(db, common::unix_now()))
      std::cout << "cohort: seeded the demo webinar series (id " << id << ")\n";
  store::sqlite_writer writer(std::move(db),
                              {static_cast<std::size_t>(cfg.storage.write_queue_max), static_cast<std::size_t>(cfg.storage.batch_max)},
                              &metrics);
  store::reader_pool readers(db_path, static_cast<std::size_t>(cfg.storage.reader_connections), cfg.storage.busy_timeout_ms);
  ready = true;

  const int threads = io_threads(cfg);
  net::io_context ioc(threads);
  // A token when one is given (automation, registrants), else the console's session cookie.
  std::unique_ptr<accounts::session_api> sessions;  // made once the bound port gives the allowed origins
  auto authenticate = [&](const http::request& req, std::string_view token) {
    if (!token.empty()) return http::authenticate(token, keys.admin_token, tokens);
    if (auto who = sessions->from_cookie(req)) return *who;
    return http::identity{};
  };
  http::router routes(&metrics, authenticate);
  auto options = server_options_from(cfg);
  options.upload_dir = fresh_upload_dir(data_dir).string();
  options.upload_max_bytes = cfg.drops.file_max_bytes;
  http::http_server server(ioc, options, routes, &metrics);
  std::uint16_t port = 0;
  try {
    port = server.listen();
  } catch (const std::exception& e) {
    std::cerr << "cohort: cannot listen on " << cfg.server.listen.host << ":" << cfg.server.listen.port << ": " << e.what() << "\n";
    return 1;
  }
  // Join links need the bound port when none is configured, so the API is built after listen().
  std::string public_url = cfg.server.public_url.empty() ? base_url(cfg.server.listen, port) : cfg.server.public_url;
  while (!public_url.empty() && public_url.back() == '/') public_url.pop_back();
  auto post_to_io = [&ioc](std::function<void()> task) { net::post(ioc, std::move(task)); };
  const registration::write_path writes{&writer, post_to_io};
  sessions = std::make_unique<accounts::session_api>(accounts::session_context{
      writes, &readers, std::int64_t{cfg.auth.session_hours} * 3600, cfg.auth.login_attempts_per_minute,
      public_url.rfind("https://", 0) == 0, allowed_origins(cfg, port)});
  auto bus = make_bus(cfg, ioc);
  if (!bus) return 2;
  chat::chat_hub chat({&ioc, bus.get(), writes, &readers, false, authenticate, allowed_origins(cfg, port), &metrics,
                       room_options_from(cfg.chat), primary_records(writes, readers), static_cast<std::size_t>(cfg.chat.sockets_per_token)});
  std::unique_ptr<email::email_service> mail;
  try {
    mail = std::make_unique<email::email_service>(
        email::email_service_options{cfg.email, data_dir, beside_build("config/email", "confirmation.txt"), public_url,
                                     {ring.join_link_key, ring.unsubscribe_key, ring.legacy_join_link_key, ring.legacy_unsubscribe_key,
                                      [&tokens](const std::string& token) { return tokens.reissue(token); }}},
        writer, ioc);
  } catch (const std::exception& e) {
    std::cerr << "config: email: " << e.what() << "\n";
    return 2;
  }
  registration::api_context api_ctx;
  api_ctx.writer = &writer;
  api_ctx.readers = &readers;
  api_ctx.tokens = &tokens;
  api_ctx.metrics = &metrics;
  api_ctx.public_url = public_url;
  api_ctx.post_to_io = post_to_io;
  api_ctx.signups_per_ip_minute = cfg.registration.ip_per_minute;
  api_ctx.signups_per_series_minute = cfg.registration.series_per_minute;
  api_ctx.confirm_email = cfg.registration.confirm_email;
  api_ctx.confirm_seconds = std::max<std::int64_t>(1, std::llround(cfg.registration.confirm_hours * 3600));
  api_ctx.on_cancelled = [&chat](std::int64_t webinar, std::int64_t registration, const std::string& nonce_hash) {
    chat.registration_cancelled(webinar, registration, nonce_hash);
  };
  api_ctx.on_waitlisted = [&chat](const std::string& nonce_hash) { chat.registration_waitlisted(nonce_hash); };
  api_ctx.on_seated = [&chat](const std::vector<std::string>& nonce_hashes) { chat.registrations_seated(nonce_hashes); };
  api_ctx.mail = mail->registration_hooks();
  const auto* m = &mail->mailer();
  const drops::file_store files(data_dir / "files");
  auto scheduler = std::make_shared<drops::drop_scheduler>(drops::scheduler_context{
      &ioc, &writer, &readers, bus.get(), cfg.attendance.min_minutes, [m](store::database& db, const drops::released_drop& d) {
        m->drop_released(db, d.webinar_id, d.drop_id, d.title, d.body, d.audience, common::unix_now());
      }});
  api_ctx.on_webinar_changed = [scheduler](std::int64_t) { scheduler->rearm(); };  // moved sessions move their drops
  api_ctx.warnings_of = drops::drop_warnings;
  drops::drops_api drops_api({writes, &readers, authenticate, bus.get(), scheduler, &files});

  streaming::hub_context stream_ctx;
  stream_ctx.ioc = &ioc;
  stream_ctx.writes = writes;
  stream_ctx.readers = &readers;
  stream_ctx.bus = bus.get();
  stream_ctx.authenticate = authenticate;
  stream_ctx.url_secret = ring.segment_url_key;
  stream_ctx.recordings_dir = data_dir / "recordings";
  stream_ctx.ffmpeg = {cfg.streaming.ffmpeg, cfg.streaming.video == "h264", cfg.streaming.video == "auto",
                       cfg.streaming.segment_seconds, cfg.streaming.live_segments, cfg.streaming.extra_360p};
  stream_ctx.session_before_minutes = cfg.streaming.session_before_minutes;
  stream_ctx.session_after_minutes = cfg.streaming.session_after_minutes;
  stream_ctx.metrics = &metrics;
  stream_ctx.on_watching = [writes](std::int64_t webinar, std::int64_t registration) {
    writes.writer->submit([webinar, registration](store::database& db) {
      drops::record_attendance(db, webinar, {registration}, common::unix_now() / 60);
    }, nullptr);
  };
  stream_ctx.present_in_room = [&chat](std::int64_t webinar) { return chat.recently_present(webinar, std::chrono::seconds(90)); };
  auto streaming_hub = std::make_shared<streaming::streaming_hub>(std::move(stream_ctx));
  api_ctx.on_webinar_deleted = [&chat, streaming_hub](std::int64_t webinar) {
    chat.webinar_deleted(webinar);
    streaming_hub->webinar_deleted(webinar);
  };
  registration::registration_api api(std::move(api_ctx));
  streaming_hub->close_interrupted_recordings();  // queued before any publish can reopen one
  streaming_hub->start_ingest();
  streaming::rtmp_limits rtmp_limits;
  rtmp_limits.handshake = std::chrono::seconds(cfg.streaming.rtmp_handshake_seconds);
  rtmp_limits.per_ip = static_cast<std::size_t>(cfg.streaming.rtmp_connections_per_ip);
  rtmp_limits.total = static_cast<std::size_t>(cfg.streaming.rtmp_connections_max);
  streaming::rtmp_relay relay(ioc, cfg.streaming.rtmp_listen, streaming_hub, &metrics, rtmp_limits);
  std::uint16_t rtmp_port = 0;
  try {
    rtmp_port = relay.listen();
  } catch (const std::exception& e) {
    std::cerr << "cohort: cannot listen for RTMP on " << cfg.streaming.rtmp_listen.host << ":" << cfg.streaming.rtmp_listen.port
              << ": " << e.what() << " (set streaming.rtmp_listen or --rtmp)\n";
    return 1;
  }
  streaming_hub->set_rtmp_public_url(rtmp_url_for(cfg, rtmp_port));
  bus->watch_node({{},
                   [&chat](std::int64_t webinar) { chat.host(webinar); },
                   [&readers, &bus, streaming_hub] {
                     republish(readers, *bus);
                     // A crash mid-stream may have left live:true in Redis; the hub says what is live now.
                     for (auto& [webinar, frame] : streaming_hub->stream_state_frames()) bus->publish_state(webinar, "stream", std::move(frame));
                   },
                   {}});
  server.set_upgrade_handler([&chat](http::request& req) { return chat.upgrade(req); });
  const auto web_root = web_root_of(cfg);
  attendance::attendance_api attendance_api({&readers, cfg.attendance.min_minutes});
  email::email_api email_api({writes, &readers, m, mail->transport(), mail->outbox_dir()});
  add_all_routes(routes, api, {*sessions, chat, drops_api, *streaming_hub, attendance_api, email_api}, web_root, [&ready, &bus] { return ready && bus->available(); },
                 metrics);
  server.start_accepting();
  relay.start_accepting();
  scheduler->start();  // releases what fell due while the server was down
  mail->start();
  api.start_sweeps(ioc);  // confirm_email: unconfirmed holds lapse

  std::cout << "cohort: listening on " << base_url(cfg.server.listen, port) << "\n";
  std::cout << "cohort: rtmp ingest on rtmp://" << cfg.streaming.rtmp_listen.host << ":" << rtmp_port << "/live\n";
  std::cout << "cohort: data in " << fs::absolute(data_dir).lexically_normal().string() << ", pages from " << web_root.string() << "\n";
  if (!keys.admin_token_note.empty()) std::cout << "cohort: organizer token " << keys.admin_token_note << "\n";
  std::cout << "cohort: token public key " << common::hex(ring.token_public_key) << " (an edge's auth.token_public_key)\n";
  std::cout << std::flush;
  run_until_signal(ioc, threads, server, *bus, [&] {
    relay.stop();
    streaming_hub->stop();
    mail->cancel_sweeps();
    api.stop_sweeps();
  });
  mail->stop();
  writer.stop();
  std::cout << "cohort: stopped" << std::endl;
  return 0;
}

int serve(const config& cfg) {
  const bool edge = cfg.server.role == "edge";
  // Each connection holds a descriptor; the soft limit is often far below the hard one.
  std::cout << "cohort: " << http::raise_open_files_limit().describe() << "\n";
  if (!edge) {
    const fs::path data_dir = cfg.storage.data_dir;
    fs::create_directories(data_dir);
    fs::permissions(data_dir, fs::perms::owner_all, fs::perm_options::replace);
  }
  const auto keys = load_secrets(cfg, edge);
  if (!keys) return 2;
  return edge ? serve_edge(cfg, *keys) : serve_primary(cfg, *keys);
}

}  // namespace

int main(int argc, char* argv[]) {
  // A peer that vanished mid-write must surface as an error code, not kill the process
  // (hiredis writes with plain write(2)).
  std::signal(SIGPIPE, SIG_IGN);
  command_line cl;
  try {
    cl = parse_command_line(argc, argv);
  } catch (const config_error& e) {
    std::cerr << e.what() << "\n";
    return 2;
  }
  if (cl.command == "help") {
    std::cout << cl.help_text;
    return 0;
  }
  if (cl.command == "routes") {
    metrics::registry metrics;
    std::atomic<bool> ready{false};
    registration::registration_api api({});
    chat::chat_hub chat({});
    drops::drops_api drops({});
    streaming::streaming_hub streaming({});
    accounts::session_api sessions({});
    attendance::attendance_api attendance({});
    email::email_api email({});
    http::router routes(&metrics, {});
    add_all_routes(routes, api, {sessions, chat, drops, streaming, attendance, email}, "web", [] { return false; }, metrics);
    for (const auto& line : routes.describe(cl.action == "access")) std::cout << line << "\n";
    return 0;
  }
  if (cl.command == "keys") {
    try {
      return print_public_key(cl.cfg);
    } catch (const std::exception& e) {
      std::cerr << "cohort: " << e.what() << "\n";
      return 1;
    }
  }
  if (cl.command == "organizer") {
    try {
      return accounts::run_organizer_command({cl.cfg.storage.data_dir, cl.action, cl.email}, std::cin, ::isatty(STDIN_FILENO) != 0,
                                             std::cout, std::cerr);
    } catch (const std::exception& e) {
      std::cerr << "cohort: " << e.what() << "\n";
      return 1;
    }
  }
  try {
    return serve(cl.cfg);
  } catch (const std::exception& e) {
    std::cerr << "cohort: " << e.what() << "\n";
    return 1;
  }
}

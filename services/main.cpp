// cohort: one binary. A primary (the embedded default: SQLite under the data dir, no other
// service needed) or an edge (WebSockets and pages; the API is the primary's). Each role is the
// list of its modules (node/module.hpp), built from what the node has (node/node_services.hpp).
#include "accounts/accounts_module.hpp"
#include "accounts/organizer_cli.hpp"
#include "attendance/attendance_module.hpp"
#include "bus/redis_url.hpp"
#include "chat/chat_hub.hpp"
#include "chat/chat_store.hpp"
#include "chat/redis_bus.hpp"
#include "config/config.hpp"
#include "drops/drop_store.hpp"
#include "drops/drops_module.hpp"
#include "email/email_service.hpp"
#include "gateway/open_files_limit.hpp"
#include "gateway/static_site.hpp"
#include "metrics/metrics.hpp"
#include "node/addresses.hpp"
#include "node/run_loop.hpp"
#include "node/secrets.hpp"
#include "registration/demo_seed.hpp"
#include "registration/registration_module.hpp"
#include "registration/rfc3339.hpp"
#include "store/migrations.hpp"
#include "streaming/streaming_module.hpp"

#include <boost/json/parse.hpp>

#include <unistd.h>

#include <csignal>
#include <iostream>

namespace fs = std::filesystem;
namespace net = boost::asio;
using namespace cohort;

namespace {

// --- The live room's wiring (until the room owns its channels) ---------------------------------

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
    return room_state_frames(*db, webinar, registration::unix_now());
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
  const auto now = registration::unix_now();
  auto webinars = db->prepare("SELECT id FROM webinars");
  while (webinars.step()) {
    const auto id = webinars.int64(0);
    for (auto& f : room_state_frames(*db, id, now)) {
      auto field = chat::state_field(boost::json::parse(f).as_object());  // before f is moved from
      bus.publish_state(id, std::move(field), std::move(f));
    }
  }
}

chat::hub_context chat_context(const node::node_services& node, bool edge) {
  chat::hub_context c{&node.ioc, &node.bus, {}, node.readers, edge, node.authenticate, node.allowed_origins, &node.metrics,
                      room_options_from(node.cfg.chat), {}, static_cast<std::size_t>(node.cfg.chat.sockets_per_token)};
  if (!edge) {
    c.writes = node.writes();
    c.records = primary_records(c.writes, *node.readers);
  }
  return c;
}

// --- The roles ---------------------------------------------------------------------------------

std::unique_ptr<chat::chat_bus> make_bus(const config& cfg, net::io_context& ioc) {
  if (cfg.bus.redis_url.empty()) return chat::make_local_bus();
  try {
    return chat::make_redis_bus(ioc, bus::parse_redis_url(cfg.bus.redis_url), static_cast<std::size_t>(cfg.chat.history_messages));
  } catch (const std::invalid_argument& e) {
    std::cerr << "config: bus.redis_url " << e.what() << "\n";
    return nullptr;
  }
}

// Listens on [server] listen; prints why not and returns 0 when it cannot.
std::uint16_t listen_or_say(http::http_server& server, const config& cfg) try {
  return server.listen();
} catch (const std::exception& e) {
  std::cerr << "cohort: cannot listen on " << cfg.server.listen.host << ":" << cfg.server.listen.port << ": " << e.what() << "\n";
  return 0;
}

// An edge: WebSockets and pages, no database. Tokens are checked by signature and against the
// cluster's revocation list; /api/... is redirected to the primary (307 keeps method and body).
int serve_edge(const config& cfg, const node::secrets& keys) {
  const http::token_verifier tokens(keys.token_public_key);  // verifies, cannot mint
  metrics::registry metrics;
  const int threads = node::io_threads(cfg);
  net::io_context ioc(threads);
  // No database here, so no console sessions: an organizer uses the admin token on an edge.
  auto authenticate = [&](const http::request&, std::string_view token) { return http::authenticate(token, keys.admin_token, tokens); };
  http::router routes(&metrics, authenticate);
  http::http_server server(ioc, node::server_options(cfg), routes, &metrics);
  const auto port = listen_or_say(server, cfg);
  if (port == 0) return 1;
  auto bus = make_bus(cfg, ioc);
  if (!bus) return 2;
  const node::node_services node{cfg, ioc, metrics, *bus, authenticate, node::allowed_origins(cfg, port), node::public_url(cfg, port), {}};
  chat::chat_hub chat(chat_context(node, true));
  bus->watch_node({[&chat](std::vector<std::string> entries, bool complete) { chat.revoked(std::move(entries), complete); }, {}, {},
                   [&chat] { chat.revocations_unconfirmed(); }});
  server.set_upgrade_handler([&chat](http::request& req) { return chat.upgrade(req); });
  // Not ready without Redis, nor while the revocation list is not confirmed by the primary.
  http::add_ops_routes(routes, [&bus, &chat] { return bus->available() && chat.revocations_confirmed(); }, metrics);
  http::add_static_routes(routes, node::web_root(cfg));
  chat.add_routes(routes);
  std::string primary = cfg.server.primary_url;
  while (!primary.empty() && primary.back() == '/') primary.pop_back();
  routes.set_fallback("api", [primary](const http::request& req) {
    auto res = http::error_response(307, "moved", "the API is served by the primary");
    res.headers.emplace_back("Location", primary + req.target);
    return res;
  });
  server.start_accepting();
  std::cout << "cohort: edge listening on " << node::base_url(cfg.server.listen, port) << "\n";
  std::cout << "cohort: the primary is " << primary << "\n" << std::flush;
  node::run_until_signal(ioc, threads, server, *bus, {});
  std::cout << "cohort: stopped" << std::endl;
  return 0;
}

// Upload bodies are spooled here; what a crash left behind is removed at start.
fs::path fresh_upload_dir(const fs::path& data_dir) {
  const auto dir = data_dir / "uploads";
  std::error_code ec;
  fs::remove_all(dir, ec);
  fs::create_directories(dir);
  return dir;
}

// serve, or (`cohort routes`) print the routes of a primary built in a scratch data dir.
enum class run_mode { serve, list_routes, list_routes_with_access };

// The primary: the database, the organizer API, the drop schedule, and every room's records.
int serve_primary(const config& cfg, const node::secrets& keys, run_mode mode = run_mode::serve) {
  const bool list_routes = mode != run_mode::serve;
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
  if (cfg.demo && !list_routes)
    if (auto id = registration::seed_demo(db, registration::unix_now())) std::cout << "cohort: seeded the demo webinar series (id " << id << ")\n";
  store::sqlite_writer writer(std::move(db), {static_cast<std::size_t>(cfg.storage.write_queue_max), static_cast<std::size_t>(cfg.storage.batch_max)},
                              &metrics);
  store::reader_pool readers(db_path, static_cast<std::size_t>(cfg.storage.reader_connections), cfg.storage.busy_timeout_ms);
  ready = true;

  const int threads = node::io_threads(cfg);
  net::io_context ioc(threads);
  // A token when one is given (automation, registrants), else the console's session cookie.
  accounts::accounts_module* accounts = nullptr;  // built once the bound port gives the allowed origins
  auto authenticate = [&](const http::request& req, std::string_view token) {
    if (!token.empty()) return http::authenticate(token, keys.admin_token, tokens);
    if (auto who = accounts->from_cookie(req)) return *who;
    return http::identity{};
  };
  http::router routes(&metrics, authenticate);
  auto options = node::server_options(cfg);
  options.upload_dir = fresh_upload_dir(data_dir).string();
  options.upload_max_bytes = cfg.drops.file_max_bytes;
  http::http_server server(ioc, options, routes, &metrics);
  const auto port = listen_or_say(server, cfg);
  if (port == 0) return 1;
  auto bus = make_bus(cfg, ioc);
  if (!bus) return 2;
  registration::events events;
  node::node_services node{cfg,  ioc,      metrics, *bus,     authenticate, node::allowed_origins(cfg, port), node::public_url(cfg, port),
                           data_dir, &writer, &readers, &ring, &tokens,      &events};

  // The modules, in the order their routes are matched.
  accounts::accounts_module accounts_module(node);
  accounts = &accounts_module;
  std::unique_ptr<email::email_service> mail;
  try {
    mail = std::make_unique<email::email_service>(node);
  } catch (const std::exception& e) {
    std::cerr << "config: email: " << e.what() << "\n";
    return 2;
  }
  registration::registration_module registration(node);
  chat::chat_hub chat(chat_context(node, false));
  // Watching the stream counts as attendance, like being in the live room.
  streaming::streaming_module stream(
      node,
      [writes = node.writes()](std::int64_t webinar, std::int64_t registration) {
        writes.writer->submit([=](store::database& db) { drops::record_attendance(db, webinar, {registration}, registration::unix_now() / 60); },
                              nullptr);
      },
      [&chat](std::int64_t webinar) { return chat.recently_present(webinar, std::chrono::seconds(90)); });
  drops::drops_module drops(node, mail->mailer());
  attendance::attendance_module attendance(node);

  // The live room follows the registrations: tokens revoked, sockets closed, rooms forgotten.
  events.on<registration::cancelled>([&chat](const auto& e) { chat.registration_cancelled(e.webinar_id, e.registration_id, e.token_nonce_hash); });
  events.on<registration::waitlisted>([&chat](const auto& e) { chat.registration_waitlisted(e.token_nonce_hash); });
  events.on<registration::seated>([&chat](const auto& e) { chat.registrations_seated(e.token_nonce_hashes); });
  events.on<registration::series_deleted>([&chat](const auto& e) { chat.webinar_deleted(e.webinar_id); });

  http::add_ops_routes(routes, [&ready, &bus] { return ready && bus->available(); }, metrics);
  accounts_module.add_routes(routes);
  stream.add_routes(routes);  // before the pages: /live/{id}/index.m3u8 is more specific than nothing, /live/{id} stays a page
  http::add_static_routes(routes, node::web_root(cfg));
  registration.add_routes(routes);
  chat.add_routes(routes);
  drops.add_routes(routes);
  attendance.add_routes(routes);
  mail->add_routes(routes);
  if (list_routes) {
    for (const auto& line : routes.describe(mode == run_mode::list_routes_with_access)) std::cout << line << "\n";
    return 0;
  }

  bus->watch_node({{},
                   [&chat](std::int64_t webinar) { chat.host(webinar); },
                   [&readers, &bus, &stream] {
                     republish(readers, *bus);
                     // A crash mid-stream may have left live:true in Redis; the hub says what is live now.
                     for (auto& [webinar, frame] : stream.stream_state_frames()) bus->publish_state(webinar, "stream", std::move(frame));
                   },
                   {}});
  server.set_upgrade_handler([&chat](http::request& req) { return chat.upgrade(req); });
  const std::vector<node::module*> modules{&accounts_module, mail.get(), &registration, &stream, &drops, &attendance};
  for (auto* m : modules) m->start();  // before the first request: a stream-key answer names the RTMP port
  server.start_accepting();

  std::cout << "cohort: listening on " << node::base_url(cfg.server.listen, port) << "\n";
  std::cout << "cohort: data in " << fs::absolute(data_dir).lexically_normal().string() << ", pages from " << node::web_root(cfg).string() << "\n";
  if (!keys.admin_token_note.empty()) std::cout << "cohort: organizer token " << keys.admin_token_note << "\n";
  std::cout << "cohort: token public key " << http::hex(ring.token_public_key) << " (an edge's auth.token_public_key)\n" << std::flush;
  node::run_until_signal(ioc, threads, server, *bus, modules);
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
  const auto keys = node::load_secrets(cfg, edge);
  if (!keys) return 2;
  return edge ? serve_edge(cfg, *keys) : serve_primary(cfg, *keys);
}

// `cohort routes [access]`: the primary's routes, from a primary built in a scratch data dir.
int list_routes(config cfg, bool with_access) {
  const auto scratch = fs::temp_directory_path() / ("cohort-routes-" + std::to_string(::getpid()));
  fs::create_directories(scratch);
  cfg.storage.data_dir = scratch.string();
  cfg.server.listen = {"127.0.0.1", 0};
  cfg.bus.redis_url.clear();
  cfg.email.templates_dir.clear();  // the repository's templates: a deployment's paths need not exist here
  cfg.auth.token_secret = "routes-listing-only";
  cfg.auth.admin_token = "routes-listing-only-token";
  int rc = 2;
  if (const auto keys = node::load_secrets(cfg, false)) rc = serve_primary(cfg, *keys, with_access ? run_mode::list_routes_with_access : run_mode::list_routes);
  std::error_code ec;
  fs::remove_all(scratch, ec);
  return rc;
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
  try {
    if (cl.command == "help") return std::cout << cl.help_text, 0;
    if (cl.command == "routes") return list_routes(cl.cfg, cl.action == "access");
    if (cl.command == "keys") return node::print_public_key(cl.cfg);
    if (cl.command == "organizer")
      return accounts::run_organizer_command({cl.cfg.storage.data_dir, cl.action, cl.email}, std::cin, ::isatty(STDIN_FILENO) != 0,
                                             std::cout, std::cerr);
    return serve(cl.cfg);
  } catch (const std::exception& e) {
    std::cerr << "cohort: " << e.what() << "\n";
    return 1;
  }
}

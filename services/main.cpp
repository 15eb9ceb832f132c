// cohort: one binary. A primary (the embedded default: SQLite under the data dir, no other
// service needed) or an edge (WebSockets and pages; the API is the primary's). Each role is the
// list of its modules (node/module.hpp), built from what the node has (node/node_services.hpp).
#include "accounts/accounts_module.hpp"
#include "accounts/organizer_cli.hpp"
#include "attendance/attendance_module.hpp"
#include "bus/redis_url.hpp"
#include "common/bytes.hpp"
#include "config/config.hpp"
#include "drops/drops_module.hpp"
#include "email/email_service.hpp"
#include "gateway/open_files_limit.hpp"
#include "live_room/channels/attendance/attendance_channel.hpp"
#include "live_room/channels/chat/chat_channel.hpp"
#include "live_room/channels/drops/drops_channel.hpp"
#include "live_room/channels/polls/polls_channel.hpp"
#include "live_room/channels/presence/presence_channel.hpp"
#include "live_room/channels/qa/qa_channel.hpp"
#include "live_room/channels/stream/stream_channel.hpp"
#include "live_room/live_room_module.hpp"
#include "live_room/redis_bus.hpp"
#include "gateway/static_site.hpp"
#include "metrics/metrics.hpp"
#include "node/addresses.hpp"
#include "node/run_loop.hpp"
#include "node/secrets.hpp"
#include "registration/demo_seed.hpp"
#include "registration/registration_module.hpp"
#include "common/rfc3339.hpp"
#include "store/migrations.hpp"
#include "streaming/streaming_module.hpp"

#include <unistd.h>

#include <csignal>
#include <iostream>

namespace fs = std::filesystem;
namespace net = boost::asio;
using namespace cohort;

namespace {

// --- The roles ---------------------------------------------------------------------------------

std::unique_ptr<live_room::room_bus> make_bus(const config& cfg, net::io_context& ioc) {
  if (cfg.bus.redis_url.empty()) return live_room::make_local_bus();
  try {
    return live_room::make_redis_bus(ioc, bus::parse_redis_url(cfg.bus.redis_url), static_cast<std::size_t>(cfg.chat.history_messages));
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
  // The channels get their state through the bus; the channels' routes are the primary's.
  live_room::live_room_module room(node);
  room.add(live_room::make_chat_channel(node));
  room.add_channel<live_room::drops_channel>();
  room.add_channel<live_room::stream_channel>();
  room.add_channel<live_room::presence_channel>();
  room.add_channel<live_room::attendance_channel>();
  room.add_channel<live_room::qa_channel>(live_room::qa_options{}, &node.bus, std::nullopt);
  room.add_channel<live_room::polls_channel>(live_room::polls_options{}, &node.bus, std::nullopt);
  server.set_upgrade_handler([&room](http::request& req) { return room.upgrade(req); });
  // Not ready without Redis, nor while the revocation list is not confirmed by the primary.
  http::add_ops_routes(routes, [&room] { return room.ready(); }, metrics);
  http::add_static_routes(routes, node::web_root(cfg));
  room.add_routes(routes);
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
  room.start();
  node::run_until_signal(ioc, threads, server, *bus, {&room});
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
    if (auto id = registration::seed_demo(db, common::unix_now())) std::cout << "cohort: seeded the demo webinar series (id " << id << ")\n";
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
  drops::drops_module drops(node, mail->mailer());
  attendance::attendance_module attendance(node);
  live_room::live_room_module room(node);
  room.add(live_room::make_chat_channel(node));
  room.add_channel<live_room::drops_channel>(drops.room_state_loader());
  room.add_channel<live_room::stream_channel>();
  room.add_channel<live_room::presence_channel>();
  const auto present = room.add_channel<live_room::attendance_channel>(drops.attendance_recorder());
  room.add_channel<live_room::qa_channel>(live_room::qa_options{}, &node.bus, live_room::qa_store_access{node.writes(), node.readers});
  room.add_channel<live_room::polls_channel>(live_room::polls_options{}, &node.bus, live_room::polls_store_access{node.writes(), node.readers});
  // Watching the stream counts as attendance, like being in the live room; the room's recent
  // presence counts as viewers while it is live.
  streaming::streaming_module stream(node, drops.watching_recorder(),
                                     [present](std::int64_t webinar) { return present->recently_present(webinar, std::chrono::seconds(90)); });
  // A crash mid-stream may have left live:true in Redis; streaming says what is live now.
  room.on_republish([&stream](live_room::room_bus& bus) {
    for (auto& [webinar, frame] : stream.stream_state_frames()) bus.publish_state(webinar, "stream", std::move(frame));
  });

  http::add_ops_routes(routes, [&ready, &room] { return ready && room.ready(); }, metrics);
  const std::vector<node::module*> modules{&accounts_module, &stream, &registration, &room, &drops, &attendance, mail.get()};
  for (auto* m : modules) {
    m->add_routes(routes);
    // After the stream's: /live/{id}/index.m3u8 is a stream, /live/{id} stays a page.
    if (m == &stream) http::add_static_routes(routes, node::web_root(cfg));
  }
  if (list_routes) {
    for (const auto& line : routes.describe(mode == run_mode::list_routes_with_access)) std::cout << line << "\n";
    return 0;
  }
  server.set_upgrade_handler([&room](http::request& req) { return room.upgrade(req); });
  for (auto* m : modules) m->start();  // before the first request: a stream-key answer names the RTMP port
  server.start_accepting();

  std::cout << "cohort: listening on " << node::base_url(cfg.server.listen, port) << "\n";
  std::cout << "cohort: data in " << fs::absolute(data_dir).lexically_normal().string() << ", pages from " << node::web_root(cfg).string() << "\n";
  if (!keys.admin_token_note.empty()) std::cout << "cohort: organizer token " << keys.admin_token_note << "\n";
  std::cout << "cohort: token public key " << common::hex(ring.token_public_key) << " (an edge's auth.token_public_key)\n" << std::flush;
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

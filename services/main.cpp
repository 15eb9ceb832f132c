// cohort: one binary that serves the registration pages and API on the embedded default
// (SQLite under the data dir, no other service needed).
#include "bus/redis_url.hpp"
#include "chat/chat_hub.hpp"
#include "chat/redis_bus.hpp"
#include "config/config.hpp"
#include "gateway/auth.hpp"
#include "gateway/http_server.hpp"
#include "gateway/router.hpp"
#include "gateway/static_site.hpp"
#include "metrics/metrics.hpp"
#include "registration/demo_seed.hpp"
#include "registration/registration_api.hpp"
#include "registration/rfc3339.hpp"
#include "store/migrations.hpp"
#include "store/reader_pool.hpp"
#include "store/sqlite_writer.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include <sys/stat.h>

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <thread>

namespace fs = std::filesystem;
namespace net = boost::asio;
using namespace cohort;

namespace {

// Reads a secret kept in the data dir, or creates it (mode 0600) on first start.
std::string load_or_create_secret(const fs::path& file, bool& created) {
  created = false;
  if (std::ifstream in{file}; in) {
    std::string value;
    std::getline(in, value);
    if (!value.empty()) return value;
  }
  const auto value = http::hex(http::random_bytes(32));
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

fs::path default_web_root() {
  std::error_code ec;
  const auto exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    const auto beside_build = exe.parent_path().parent_path() / "web";
    if (fs::exists(beside_build / "index.html")) return beside_build;
  }
  return fs::current_path() / "web";
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

// Registers every route the server has; shared by `serve` and `cohort routes`.
void add_all_routes(http::router& routes, registration::registration_api& api, chat::chat_hub& chat,
                    const fs::path& web_root, std::function<bool()> ready, const metrics::registry& metrics) {
  http::add_ops_routes(routes, ready, metrics);
  http::add_static_routes(routes, web_root);
  api.add_routes(routes);
  chat.add_routes(routes);
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

int serve(const config& cfg) {
  const fs::path data_dir = cfg.storage.data_dir;
  fs::create_directories(data_dir);
  fs::permissions(data_dir, fs::perms::owner_all, fs::perm_options::replace);

  std::string admin_token = cfg.auth.admin_token;
  if (admin_token.empty())
    if (const char* env = std::getenv("COHORT_ADMIN_TOKEN"); env && *env) admin_token = env;
  std::string admin_token_note;
  if (admin_token.empty()) {
    bool created = false;
    admin_token = load_or_create_secret(data_dir / "admin-token", created);
    admin_token_note = (created ? "generated, stored in " : "stored in ") + fs::absolute(data_dir / "admin-token").lexically_normal().string();
  } else if (admin_token.size() < 16) {
    std::cerr << "config: COHORT_ADMIN_TOKEN must be at least 16 characters\n";
    return 2;
  }
  std::string token_secret = cfg.auth.token_secret;
  if (token_secret.empty()) {
    bool created = false;
    token_secret = load_or_create_secret(data_dir / "token-secret", created);
  }
  const http::token_codec tokens(token_secret);

  metrics::registry metrics;
  std::atomic<bool> ready{false};
  const auto db_path = (data_dir / "cohort.db").string();
  store::open_options db_options;
  db_options.synchronous_full = cfg.storage.synchronous == "full";
  db_options.busy_timeout_ms = cfg.storage.busy_timeout_ms;
  store::database db(db_path, db_options);
  store::migrate(db);
  if (cfg.demo)
    if (auto id = registration::seed_demo(db, registration::unix_now()))
      std::cout << "cohort: seeded the demo webinar series (id " << id << ")\n";
  store::sqlite_writer writer(std::move(db),
                              {static_cast<std::size_t>(cfg.storage.write_queue_max), static_cast<std::size_t>(cfg.storage.batch_max)},
                              &metrics);
  store::reader_pool readers(db_path, static_cast<std::size_t>(cfg.storage.reader_connections), cfg.storage.busy_timeout_ms);
  ready = true;

  const int threads = cfg.server.io_threads > 0 ? cfg.server.io_threads
                                                : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  net::io_context ioc(threads);
  http::router routes(&metrics, [&](std::string_view bearer) { return http::authenticate(bearer, admin_token, tokens); });
  http::server_options options{cfg.server.listen.host,        cfg.server.listen.port,
                               cfg.limits.body_max_bytes,     cfg.limits.header_max_bytes,
                               cfg.limits.read_timeout_seconds, cfg.limits.keepalive_timeout_seconds,
                               static_cast<std::size_t>(cfg.chat.ws_queue_max_bytes)};
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
  registration::registration_api api({&writer, &readers, &tokens, &metrics, public_url, post_to_io});
  std::unique_ptr<chat::chat_bus> bus;
  if (cfg.bus.redis_url.empty()) {
    bus = chat::make_local_bus();
  } else {
    try {
      bus = chat::make_redis_bus(ioc, bus::parse_redis_url(cfg.bus.redis_url),
                                 static_cast<std::size_t>(cfg.chat.history_messages));
    } catch (const std::invalid_argument& e) {
      std::cerr << "config: bus.redis_url " << e.what() << "\n";
      return 2;
    }
  }
  chat::chat_hub chat({&ioc, bus.get(), {&writer, post_to_io}, &readers,
                       [&](std::string_view bearer) { return http::authenticate(bearer, admin_token, tokens); },
                       allowed_origins(cfg, port), &metrics, room_options_from(cfg.chat)});
  server.set_upgrade_handler([&chat](http::request& req) { return chat.upgrade(req); });
  const auto web_root = cfg.server.web_root.empty() ? default_web_root() : fs::path(cfg.server.web_root);
  add_all_routes(routes, api, chat, web_root, [&ready, &bus] { return ready && bus->available(); }, metrics);
  server.start_accepting();

  std::cout << "cohort: listening on " << base_url(cfg.server.listen, port) << "\n";
  std::cout << "cohort: data in " << fs::absolute(data_dir).lexically_normal().string() << ", pages from " << web_root.string() << "\n";
  if (!admin_token_note.empty()) std::cout << "cohort: organizer token " << admin_token_note << "\n";
  std::cout << std::flush;

  // Graceful stop: stop accepting, let in-flight requests finish (their writes commit), then
  // stop the writer and the loop; a hard deadline keeps the whole stop under 5 s.
  net::signal_set signals(ioc, SIGINT, SIGTERM);
  net::steady_timer drain(ioc);
  const auto stop_started = std::make_shared<std::chrono::steady_clock::time_point>();
  std::function<void()> wait_for_drain = [&] {
    const bool drained = server.open_sessions() == 0;
    if (drained || std::chrono::steady_clock::now() - *stop_started > std::chrono::milliseconds(4000)) {
      ioc.stop();
      return;
    }
    drain.expires_after(std::chrono::milliseconds(20));
    drain.async_wait([&](boost::system::error_code) { wait_for_drain(); });
  };
  signals.async_wait([&](boost::system::error_code ec, int) {
    if (ec) return;
    std::cout << "cohort: stopping" << std::endl;
    *stop_started = std::chrono::steady_clock::now();
    server.stop();
    bus->stop();
    wait_for_drain();
  });

  std::vector<std::thread> pool;
  for (int i = 1; i < threads; ++i) pool.emplace_back([&ioc] { ioc.run(); });
  ioc.run();
  for (auto& t : pool) t.join();
  writer.stop();
  std::cout << "cohort: stopped" << std::endl;
  return 0;
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
    http::router routes(&metrics, {});
    add_all_routes(routes, api, chat, "web", [] { return false; }, metrics);
    for (const auto& line : routes.describe()) std::cout << line << "\n";
    return 0;
  }
  try {
    return serve(cl.cfg);
  } catch (const std::exception& e) {
    std::cerr << "cohort: " << e.what() << "\n";
    return 1;
  }
}

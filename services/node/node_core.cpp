#include "node/node_core.hpp"

#include "bus/redis_url.hpp"
#include "live_room/redis_bus.hpp"
#include "node/run_loop.hpp"
#include "store/migrations.hpp"

#include <unistd.h>

namespace fs = std::filesystem;

namespace cohort::node {
namespace {

std::uint16_t listen(http::http_server& server, const config& cfg) try {
  return server.listen();
} catch (const std::exception& e) {
  throw startup_error(1, "cohort: cannot listen on " + cfg.server.listen.host + ":" + std::to_string(cfg.server.listen.port) + ": " + e.what());
}

std::unique_ptr<live_room::room_bus> make_bus(const config& cfg, boost::asio::io_context& ioc) {
  const auto history = static_cast<std::size_t>(cfg.chat.history_messages);
  if (cfg.bus.redis_url.empty()) return live_room::make_local_bus(history);
  try {
    return live_room::make_redis_bus(ioc, bus::parse_redis_url(cfg.bus.redis_url), history);
  } catch (const std::invalid_argument& e) {
    throw startup_error(2, std::string("config: bus.redis_url ") + e.what());
  }
}

}  // namespace

node_core::node_core(const config& cfg, http::authenticator authenticate, http::server_options options)
    : threads(io_threads(cfg)),
      ioc(threads),
      routes(&metrics, std::move(authenticate)),
      server(ioc, std::move(options), routes, &metrics),
      port(listen(server, cfg)),
      bus(make_bus(cfg, ioc)) {}

std::string database_path(const config& cfg) { return (fs::path(cfg.storage.data_dir) / "cohort.db").string(); }

store::database open_database(const config& cfg) {
  store::open_options o;
  o.synchronous_full = cfg.storage.synchronous == "full";
  o.busy_timeout_ms = cfg.storage.busy_timeout_ms;
  store::database db(database_path(cfg), o);
  store::migrate(db);
  return db;
}

scratch_primary::scratch_primary(config& cfg)
    : dir_(fs::temp_directory_path() / ("cohort-routes-" + std::to_string(::getpid()))) {
  fs::create_directories(dir_);
  cfg.storage.data_dir = dir_.string();
  cfg.server.listen = {"127.0.0.1", 0};
  cfg.bus.redis_url.clear();
  cfg.email.templates_dir.clear();  // a deployment's paths need not exist where routes are listed
  cfg.auth.token_secret = "routes-listing-only";
  cfg.auth.admin_token = "routes-listing-only-token";
}

scratch_primary::~scratch_primary() {
  std::error_code ec;
  fs::remove_all(dir_, ec);
}

void make_private_dir(const fs::path& dir) {
  fs::create_directories(dir);
  fs::permissions(dir, fs::perms::owner_all, fs::perm_options::replace);
}

fs::path fresh_upload_dir(const fs::path& data_dir) {
  const auto dir = data_dir / "uploads";
  std::error_code ec;
  fs::remove_all(dir, ec);
  fs::create_directories(dir);
  return dir;
}

}  // namespace cohort::node

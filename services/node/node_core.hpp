// What every node is built on, in the order it is made: its metrics, its io_context, the router
// and the HTTP server listening on [server] listen, and the room bus (local, or Redis with
// bus.redis_url). main builds the role's modules on top (node_services).
#pragma once

#include "config/config.hpp"
#include "gateway/http_server.hpp"
#include "gateway/router.hpp"
#include "live_room/room_bus.hpp"
#include "metrics/metrics.hpp"
#include "store/sqlite.hpp"

#include <boost/asio/io_context.hpp>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <stdexcept>

namespace cohort::node {

// Start-up cannot go on: `what()` is the line for stderr, `exit_code` the process's exit code
// (1: a port or the system, 2: the configuration).
struct startup_error : std::runtime_error {
  startup_error(int code, const std::string& line) : std::runtime_error(line), exit_code(code) {}
  int exit_code;
};

class node_core {
 public:
  // Listens at once (join links and allowed origins need the bound port). Throws startup_error.
  node_core(const config& cfg, http::authenticator authenticate, http::server_options options);

  metrics::registry metrics;
  const int threads;
  boost::asio::io_context ioc;
  http::router routes;
  http::http_server server;
  const std::uint16_t port;
  const std::unique_ptr<live_room::room_bus> bus;
};

// The primary's database file (data_dir/cohort.db), and its write connection, migrated.
std::string database_path(const config& cfg);
store::database open_database(const config& cfg);
// `cohort routes`: makes `cfg` a throwaway primary's — a scratch data dir (removed again with
// this), a loopback port, no Redis, the repository's mail templates, fixed secrets.
class scratch_primary {
 public:
  explicit scratch_primary(config& cfg);
  ~scratch_primary();
  scratch_primary(const scratch_primary&) = delete;
  scratch_primary& operator=(const scratch_primary&) = delete;

 private:
  std::filesystem::path dir_;
};

// The data dir, made private to this user (0700).
void make_private_dir(const std::filesystem::path& dir);
// Upload bodies are spooled here; what a crash left behind is removed at start.
std::filesystem::path fresh_upload_dir(const std::filesystem::path& data_dir);

}  // namespace cohort::node

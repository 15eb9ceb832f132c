// What a node has, handed to every module it builds: the loop, the configuration, the metrics,
// the room bus, who is calling, and — on the primary only — the database, the token keys and the
// registration events. An edge has no database: its pointers are null, and only the modules
// that can run without one are listed for it (main.cpp).
#pragma once

#include "live_room/room_bus.hpp"
#include "config/config.hpp"
#include "gateway/auth.hpp"
#include "gateway/key_ring.hpp"
#include "gateway/router.hpp"
#include "registration/api_support.hpp"
#include "registration/registration_events.hpp"
#include "store/reader_pool.hpp"
#include "store/sqlite_writer.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <filesystem>
#include <string>
#include <vector>

namespace cohort::metrics { struct registry; }

namespace cohort::node {

struct node_services {
  const cohort::config& cfg;
  boost::asio::io_context& ioc;
  metrics::registry& metrics;
  live_room::room_bus& bus;
  http::authenticator authenticate;           // token, else the console's session cookie (primary)
  std::vector<std::string> allowed_origins;   // where browsers may call from (Origin checks)
  std::string public_url;                     // base of every link, no trailing slash
  std::filesystem::path data_dir;

  // The primary's; null on an edge.
  store::sqlite_writer* writer = nullptr;
  store::reader_pool* readers = nullptr;
  const http::key_ring* keys = nullptr;
  const http::token_codec* tokens = nullptr;
  registration::events* registrations = nullptr;

  // Writes go to the single writer; their completions hop back to the io threads.
  registration::write_path writes() const {
    auto* io = &ioc;
    return {writer, [io](std::function<void()> task) { boost::asio::post(*io, std::move(task)); }};
  }
};

}  // namespace cohort::node

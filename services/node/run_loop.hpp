// Runs the node's io_context on its threads until SIGINT/SIGTERM, then stops gracefully: the
// modules stop first (what they still send reaches the rooms), a moment later the server stops
// accepting and the bus disconnects, in-flight requests finish (their writes commit), then the
// loop ends; a hard deadline keeps the whole under 5 s.
#pragma once

#include "live_room/room_bus.hpp"
#include "config/config.hpp"
#include "gateway/http_server.hpp"
#include "node/module.hpp"

#include <boost/asio/io_context.hpp>

#include <vector>

namespace cohort::node {

// Threads for the io_context: server.io_threads, else one per core.
int io_threads(const config& cfg);

void run_until_signal(boost::asio::io_context& ioc, int threads, http::http_server& server, live_room::room_bus& bus,
                      const std::vector<module*>& modules);

}  // namespace cohort::node

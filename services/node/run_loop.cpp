#include "node/run_loop.hpp"

#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <functional>
#include <iostream>
#include <thread>

namespace net = boost::asio;

namespace cohort::node {

int io_threads(const config& cfg) {
  return cfg.server.io_threads > 0 ? cfg.server.io_threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

void run_until_signal(net::io_context& ioc, int threads, http::http_server& server, live_room::room_bus& bus,
                      const std::vector<module*>& modules) {
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
    if (modules.empty()) return close_down();
    // First, and a moment before the connections and the bus close: what the modules send as
    // they stop (a live stream's end) still reaches the rooms' clients and Redis.
    for (auto* m : modules) m->stop();
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
  for (auto it = modules.rbegin(); it != modules.rend(); ++it) (*it)->join();
}

}  // namespace cohort::node

// Privacy as a node module (primary only): the export/erase/notice routes (privacy_api) and the
// daily retention sweep (privacy.retention_days, ce.records_years; see retention_sweep.hpp). The
// sweep runs shortly after start and then every 24 hours, as a chain of bounded writer jobs, one
// at a time; stop() ends the chain.
#pragma once

#include "node/module.hpp"
#include "node/node_services.hpp"
#include "privacy/privacy_api.hpp"

#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>

namespace cohort::privacy {

class privacy_module : public node::module {
 public:
  explicit privacy_module(const node::node_services& node);
  void add_routes(http::router& r) override { api_.add_routes(r); }
  void start() override;
  void stop() override;

 private:
  struct sweep_state {
    std::int64_t series = 0;  // the series being erased, its erasures row and the count so far
    std::int64_t row = 0;
    int erased = 0;
  };
  void sweep_after(std::chrono::seconds delay);
  void retention_step(std::shared_ptr<sweep_state> s);
  void records_step();
  void log_series(const sweep_state& s) const;

  const node::node_services& node_;
  privacy_api api_;
  boost::asio::steady_timer timer_;
  std::atomic<bool> stopped_{false};
};

}  // namespace cohort::privacy

// CE credit as a node module (primary only): the settings, "My CE", attestation and report
// routes, and the credit hooks. on_credit registers what runs when a session's credit is earned
// (the certificate issuer); settler() is what other modules call inside their own write
// transaction after something that may complete a session (a passed test, an evaluation).
#pragma once

#include "ce/ce_api.hpp"
#include "ce/credit.hpp"
#include "node/module.hpp"
#include "node/node_services.hpp"

#include <functional>
#include <memory>

namespace cohort::ce {

class ce_module : public node::module {
 public:
  explicit ce_module(const node::node_services& node);
  void add_routes(http::router& r) override { api_.add_routes(r); }

  // Before the node starts (hooks are read on the writer thread without a lock).
  void on_credit(credit_hook hook) { hooks_->push_back(std::move(hook)); }
  // settle(db /* already in a write transaction */, webinar, registration, session, now).
  std::function<void(store::database&, std::int64_t, std::int64_t, int, std::int64_t)> settler() const;

 private:
  std::shared_ptr<credit_hooks> hooks_;
  ce_api api_;
};

}  // namespace cohort::ce

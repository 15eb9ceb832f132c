// Organizer accounts as a node module: console login, sessions and their cookie. The node's
// authenticator asks it who a request's cookie belongs to.
#pragma once

#include "accounts/session_api.hpp"
#include "node/module.hpp"
#include "node/node_services.hpp"

namespace cohort::accounts {

class accounts_module : public node::module {
 public:
  explicit accounts_module(const node::node_services& node)
      : api_({node.writes(), node.readers, std::int64_t{node.cfg.auth.session_hours} * 3600, node.cfg.auth.login_attempts_per_minute,
              node.public_url.rfind("https://", 0) == 0, node.allowed_origins}) {}
  void add_routes(http::router& r) override { api_.add_routes(r); }
  std::optional<http::identity> from_cookie(const http::request& req) const { return api_.from_cookie(req); }

 private:
  session_api api_;
};

}  // namespace cohort::accounts

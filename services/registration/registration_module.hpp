// Registration as a node module: the series and signup API, the series' signup questions, and
// the sweep that lapses unconfirmed holds. Other modules hear what happens through
// node.registrations (events).
#pragma once

#include "node/module.hpp"
#include "node/node_services.hpp"
#include "registration/questions_api.hpp"
#include "registration/registration_api.hpp"

namespace cohort::registration {

class registration_module : public node::module {
 public:
  explicit registration_module(const node::node_services& node);
  void add_routes(http::router& r) override {
    api_.add_routes(r);
    questions_.add_routes(r);
  }
  void start() override { api_.start_sweeps(ioc_); }
  void stop() override { api_.stop_sweeps(); }

 private:
  boost::asio::io_context& ioc_;
  registration_api api_;
  questions_api questions_;
};

}  // namespace cohort::registration

// The one shape every capability of a node has (email::email_service was the first): built from
// what the node has (node_services), it adds its routes, starts its background work once the
// node listens, and stops in two steps. main.cpp is the list of modules for each role.
#pragma once

namespace cohort::http { class router; }

namespace cohort::node {

class module {
 public:
  virtual ~module() = default;
  // Every route this module serves. Called once, in the order main lists the modules (a more
  // specific pattern of one module may need to come before another's).
  virtual void add_routes(http::router&) {}
  // After the node listens: timers, sweeps, threads, what fell due while the node was down.
  virtual void start() {}
  // SIGTERM, on the io_context: no new work; what it still sends (a stream's end) goes out
  // before connections close.
  virtual void stop() {}
  // After the io threads ended: waits for the module's own threads (a mail in flight).
  virtual void join() {}
};

}  // namespace cohort::node

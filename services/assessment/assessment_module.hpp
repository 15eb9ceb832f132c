// The post-test and the evaluation as a node module (primary only: it needs the database). Other
// CE work learns of a registrant's progress through on_progress: a passing attempt and an
// evaluation submission call every hook inside the same write transaction.
#pragma once

#include "assessment/assessment_context.hpp"
#include "assessment/evaluation_api.hpp"
#include "assessment/test_api.hpp"
#include "node/module.hpp"
#include "node/node_services.hpp"

#include <memory>
#include <vector>

namespace cohort::assessment {

class assessment_module : public node::module {
 public:
  explicit assessment_module(const node::node_services& node);
  void add_routes(http::router& r) override;
  // Register before the node starts (main.cpp); hooks run on the writer thread.
  void on_progress(progress_hook hook) { hooks_->push_back(std::move(hook)); }

 private:
  std::shared_ptr<std::vector<progress_hook>> hooks_ = std::make_shared<std::vector<progress_hook>>();
  test_api tests_;
  evaluation_api evaluations_;
};

}  // namespace cohort::assessment

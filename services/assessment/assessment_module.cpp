#include "assessment/assessment_module.hpp"

namespace cohort::assessment {

assessment_module::assessment_module(const node::node_services& node)
    : tests_({node.writes(), node.readers, hooks_.get()}), evaluations_({node.writes(), node.readers, hooks_.get()}) {}

void assessment_module::add_routes(http::router& r) {
  tests_.add_routes(r);
  evaluations_.add_routes(r);
}

}  // namespace cohort::assessment

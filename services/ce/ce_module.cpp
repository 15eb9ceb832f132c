#include "ce/ce_module.hpp"

namespace cohort::ce {

ce_module::ce_module(const node::node_services& node)
    : hooks_(std::make_shared<credit_hooks>()), api_({node.writes(), node.readers, hooks_}) {}

std::function<void(store::database&, std::int64_t, std::int64_t, int, std::int64_t)> ce_module::settler() const {
  return [hooks = hooks_](store::database& db, std::int64_t webinar, std::int64_t registration, int session, std::int64_t now) {
    settle(db, *hooks, webinar, registration, session, now);
  };
}

}  // namespace cohort::ce

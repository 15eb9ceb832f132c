#include "registration/registration_module.hpp"

#include <algorithm>
#include <cmath>

namespace cohort::registration {
namespace {

api_context context_of(const node::node_services& node) {
  const auto& c = node.cfg.registration;
  api_context ctx;
  ctx.writer = node.writer;
  ctx.readers = node.readers;
  ctx.tokens = node.tokens;
  ctx.metrics = &node.metrics;
  ctx.public_url = node.public_url;
  ctx.post_to_io = node.writes().post_to_io;
  ctx.signups_per_ip_minute = c.ip_per_minute;
  ctx.signups_per_series_minute = c.series_per_minute;
  ctx.confirm_email = c.confirm_email;
  ctx.confirm_seconds = std::max<std::int64_t>(1, std::llround(c.confirm_hours * 3600));
  ctx.events = node.registrations;
  return ctx;
}

}  // namespace

registration_module::registration_module(const node::node_services& node) : ioc_(node.ioc), api_(context_of(node)), questions_(node.writes(), node.readers) {}

}  // namespace cohort::registration

#include "privacy/privacy_module.hpp"

#include "common/describe.hpp"
#include "common/rfc3339.hpp"
#include "privacy/retention_sweep.hpp"

#include <boost/asio/post.hpp>

#include <iostream>

namespace cohort::privacy {
namespace {
// Rows per writer job: a sweep over a large series never holds the writer for long.
constexpr int batch_rows = 200;
}  // namespace

privacy_module::privacy_module(const node::node_services& node)
    : node_(node),
      api_({node.readers, node.writes(), node.registrations, node.cfg.privacy, node.cfg.ce}),
      timer_(node.ioc) {}

void privacy_module::start() { sweep_after(std::chrono::seconds(1)); }

void privacy_module::stop() {
  stopped_ = true;
  timer_.cancel();
}

void privacy_module::sweep_after(std::chrono::seconds delay) {
  if (stopped_) return;
  timer_.expires_after(delay);
  timer_.async_wait([this](boost::system::error_code ec) {
    if (ec || stopped_) return;
    retention_step(std::make_shared<sweep_state>());
  });
}

void privacy_module::log_series(const sweep_state& s) const {
  if (s.series && s.erased)
    std::cout << "cohort: privacy: erased " << s.erased << " registrations of series " << s.series
              << " (retention_days=" << node_.cfg.privacy.retention_days << ")\n"
              << std::flush;
}

void privacy_module::retention_step(std::shared_ptr<sweep_state> s) {
  if (stopped_) return;
  auto batch = std::make_shared<retention_batch>();
  const auto now = common::unix_now();
  const int days = node_.cfg.privacy.retention_days;
  const bool queued = node_.writer->submit(
      [batch, now, days, series = s->series, row = s->row](store::database& db) {
        const auto next = next_expired_series(db, now, days);
        if (next) *batch = erase_expired_batch(db, next, next == series ? row : 0, now, batch_rows);
      },
      [this, batch, s](std::exception_ptr ep) {
        boost::asio::post(node_.ioc, [this, batch, s, ep] {
          if (stopped_) return;
          if (ep) {
            std::cerr << "cohort: privacy: retention sweep failed: " << common::describe(ep) << "\n";
            return sweep_after(std::chrono::hours(1));
          }
          for (const auto& e : batch->erasures) api_.tell(e, true);
          if (batch->webinar_id != s->series) {
            log_series(*s);
            *s = sweep_state{batch->webinar_id, 0, 0};
          }
          s->row = batch->erasure_row;
          s->erased += batch->erased;
          if (batch->webinar_id == 0) return records_step();
          retention_step(s);
        });
      });
  if (!queued) sweep_after(std::chrono::minutes(1));  // the writer is busy: try again soon
}

void privacy_module::records_step() {
  if (stopped_) return;
  auto batch = std::make_shared<records_batch>();
  const auto now = common::unix_now();
  const int years = node_.cfg.ce.records_years;
  const bool queued = node_.writer->submit(
      [batch, now, years](store::database& db) { *batch = clear_expired_certificates(db, now, years, batch_rows); },
      [this, batch, years](std::exception_ptr ep) {
        boost::asio::post(node_.ioc, [this, batch, years, ep] {
          if (stopped_) return;
          if (ep) {
            std::cerr << "cohort: privacy: records sweep failed: " << common::describe(ep) << "\n";
            return sweep_after(std::chrono::hours(1));
          }
          if (batch->cleared)
            std::cout << "cohort: privacy: cleared name and license number of " << batch->cleared
                      << " CE certificates (records_years=" << years << ")\n" << std::flush;
          if (batch->cleared == batch_rows) return records_step();
          sweep_after(std::chrono::hours(24));
        });
      });
  if (!queued) sweep_after(std::chrono::minutes(1));
}

}  // namespace cohort::privacy

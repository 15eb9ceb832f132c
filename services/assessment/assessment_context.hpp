// What the post-test and evaluation routes share: the write path, the readers, and the progress
// hooks (assessment_module::on_progress) run inside the write of a passing attempt or of an
// evaluation submission.
#pragma once

#include "registration/api_support.hpp"
#include "store/reader_pool.hpp"
#include "store/sqlite.hpp"

#include <cstdint>
#include <functional>
#include <vector>

namespace cohort::assessment {

// Runs on the writer thread, inside the write transaction that recorded the progress; a throw
// undoes that write too (the registrant gets the error).
using progress_hook = std::function<void(store::database& db, std::int64_t webinar_id, std::int64_t registration_id, int session,
                                         std::int64_t now)>;

struct assessment_context {
  registration::write_path writes;
  store::reader_pool* readers = nullptr;
  const std::vector<progress_hook>* hooks = nullptr;  // registered before start, read-only after

  void run_hooks(store::database& db, std::int64_t webinar_id, std::int64_t registration_id, int session, std::int64_t now) const {
    if (hooks)
      for (const auto& h : *hooks) h(db, webinar_id, registration_id, session, now);
  }
};

}  // namespace cohort::assessment

// The data directory has no space left for a write (SQLITE_FULL, ENOSPC): nothing of it was kept.
// A kind of common::unavailable (the same request succeeds once an operator frees space) that
// http::error_from answers 507 Insufficient Storage, code "storage_full". Kept out of errors.hpp
// so that header, included everywhere, stays as it is.
#pragma once

#include "common/errors.hpp"

namespace cohort::common {

struct storage_full : unavailable {
  explicit storage_full(const std::string& message = "the server has no disk space left to store this; try again later")
      : unavailable(message, "storage_full") {}
};

}  // namespace cohort::common

// The message of a failure handed over as an exception_ptr (a writer's completion, say), for a
// log line: what() of a std::exception, else a fixed text. Never throws.
#pragma once

#include <exception>
#include <string>

namespace cohort::common {

inline std::string describe(const std::exception_ptr& failure) {
  if (!failure) return "no error";
  try {
    std::rethrow_exception(failure);
  } catch (const std::exception& e) {
    return e.what();
  } catch (...) {
    return "unknown exception";
  }
}

}  // namespace cohort::common

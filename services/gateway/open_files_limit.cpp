#include "gateway/open_files_limit.hpp"

#include <sys/resource.h>

#include <cerrno>
#include <cstring>
#include <fstream>

namespace cohort::http {

open_files_limit raise_open_files_limit() {
  open_files_limit out;
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) != 0) {
    out.error = std::strerror(errno);
    return out;
  }
  rlim_t target = lim.rlim_max;
  // setrlimit refuses RLIM_INFINITY for descriptors; the kernel's ceiling is fs.nr_open.
  if (target == RLIM_INFINITY) {
    std::ifstream nr_open("/proc/sys/fs/nr_open");
    unsigned long long v = 0;
    target = (nr_open >> v) && v > 0 ? static_cast<rlim_t>(v) : lim.rlim_cur;
  }
  out.before = lim.rlim_cur;
  out.after = lim.rlim_cur;
  out.hard = target;
  if (lim.rlim_cur == RLIM_INFINITY || lim.rlim_cur >= target) return out;
  rlimit raised{target, lim.rlim_max};
  if (setrlimit(RLIMIT_NOFILE, &raised) != 0) {
    out.error = std::strerror(errno);
    return out;
  }
  out.after = target;
  return out;
}

std::string open_files_limit::describe() const {
  if (!error.empty()) return "open files limit stays at " + std::to_string(after) + ": cannot raise it: " + error;
  if (after > before)
    return "open files limit raised from " + std::to_string(before) + " to " + std::to_string(after) + " (the hard limit)";
  return "open files limit is " + std::to_string(after) + " (the hard limit)";
}

}  // namespace cohort::http

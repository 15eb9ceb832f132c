// The process's limit on open descriptors. Every connection costs one, and the soft limit many
// systems start with (1024) is far below what the hard limit allows, so start-up raises it.
#pragma once

#include <cstdint>
#include <string>

namespace cohort::http {

struct open_files_limit {
  std::uint64_t before = 0;  // the soft limit found at start
  std::uint64_t after = 0;   // the soft limit now
  std::uint64_t hard = 0;
  std::string error;         // why raising failed; empty on success or when nothing was to do

  // One line for the start-up log.
  std::string describe() const;
};

// Raises the soft RLIMIT_NOFILE to the hard limit (an unlimited hard limit means the kernel's
// fs.nr_open). Never throws; call once at start, before threads exist.
open_files_limit raise_open_files_limit();

}  // namespace cohort::http

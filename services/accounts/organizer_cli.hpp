// `cohort organizer add|password|list|remove`: console accounts, managed from a shell on the
// primary. Works while the server runs (SQLite's WAL and busy timeout let both write).
#pragma once

#include <iosfwd>
#include <string>

namespace cohort::accounts {

struct organizer_command {
  std::string data_dir;
  std::string action;  // add | password | list | remove
  std::string email;
};

// The password comes from `in`: typed twice at a prompt (no echo) when `in` is a terminal,
// else its first line, for scripts. Returns the process exit code: 0 done, 1 refused (no such
// account, duplicate, weak password), 2 bad input.
int run_organizer_command(const organizer_command& cmd, std::istream& in, bool in_is_terminal, std::ostream& out,
                          std::ostream& err);

}  // namespace cohort::accounts

#include "accounts/organizer_cli.hpp"

#include "accounts/organizer_store.hpp"
#include "accounts/password.hpp"
#include "common/rfc3339.hpp"
#include "registration/validation.hpp"
#include "store/migrations.hpp"

#include <termios.h>
#include <unistd.h>

#include <filesystem>
#include <iostream>
#include <optional>

namespace cohort::accounts {
namespace {

// Echo off while the password is typed; restored however the read ends.
class no_echo {
 public:
  no_echo() {
    if (::tcgetattr(STDIN_FILENO, &saved_) != 0) return;
    termios quiet = saved_;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    active_ = ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) == 0;
  }
  ~no_echo() {
    if (active_) ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_);
  }
  no_echo(const no_echo&) = delete;
  no_echo& operator=(const no_echo&) = delete;

 private:
  termios saved_{};
  bool active_ = false;
};

std::optional<std::string> read_line(std::istream& in) {
  std::string line;
  if (!std::getline(in, line)) return std::nullopt;
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

std::optional<std::string> read_password(std::istream& in, bool terminal, std::ostream& err) {
  if (!terminal) return read_line(in);
  std::optional<std::string> first, second;
  {
    no_echo quiet;
    err << "Password: " << std::flush;
    first = read_line(in);
    err << "\nPassword again: " << std::flush;
    second = read_line(in);
    err << "\n";
  }
  if (first != second) {
    err << "cohort: the passwords differ\n";
    return std::nullopt;
  }
  return first;
}

// A new password, checked; nullopt (and a message) when it cannot be used.
std::optional<std::string> new_password(std::istream& in, bool terminal, std::ostream& err) {
  auto password = read_password(in, terminal, err);
  if (!password) {
    if (!terminal) err << "cohort: no password on stdin\n";
    return std::nullopt;
  }
  if (password->size() < password_min_chars || password->size() > password_max_bytes) {
    err << "cohort: the password must be " << password_min_chars << " to " << password_max_bytes << " characters\n";
    return std::nullopt;
  }
  return password;
}

}  // namespace

int run_organizer_command(const organizer_command& cmd, std::istream& in, bool in_is_terminal, std::ostream& out,
                          std::ostream& err) {
  std::optional<std::string> key;
  if (cmd.action != "list") {
    key = registration::email_key(cmd.email);
    if (!key) {
      err << "cohort: \"" << cmd.email << "\" is not an email address\n";
      return 2;
    }
  }
  std::filesystem::create_directories(cmd.data_dir);
  store::database db((std::filesystem::path(cmd.data_dir) / "cohort.db").string());
  store::migrate(db);
  if (cmd.action == "list") {
    const auto all = list_organizers(db);
    if (all.empty()) out << "no organizer accounts yet (cohort organizer add --email E)\n";
    for (const auto& o : all) out << o.email << "\tsince " << common::format_rfc3339(o.created_at) << "\n";
    return 0;
  }
  if (cmd.action == "remove") {
    if (!remove_organizer(db, *key)) {
      err << "cohort: no organizer with email " << cmd.email << "\n";
      return 1;
    }
    out << "removed " << cmd.email << " (their console sessions ended)\n";
    return 0;
  }
  const auto password = new_password(in, in_is_terminal, err);
  if (!password) return 1;
  const auto hash = hash_password(*password);
  if (cmd.action == "password") {
    if (!set_password(db, *key, hash)) {
      err << "cohort: no organizer with email " << cmd.email << "\n";
      return 1;
    }
    out << "password changed for " << cmd.email << " (their console sessions ended)\n";
    return 0;
  }
  try {
    add_organizer(db, cmd.email, *key, hash, common::unix_now());
  } catch (const duplicate_organizer& e) {
    err << "cohort: " << e.what() << " (" << cmd.email << ")\n";
    return 1;
  }
  out << "added " << cmd.email << "; they can log in at /console\n";
  return 0;
}

}  // namespace cohort::accounts

// Without an SMTP relay configured, messages are delivered as files: <dir>/<name>.eml, one per
// message, written atomically (a temporary file, fsync, rename) so a reader never sees half a
// message. Writing the same name again replaces the file, so a retried message stays one file.
#pragma once

#include "email/retry.hpp"

#include <filesystem>
#include <string>
#include <string_view>

namespace cohort::email {

class eml_writer {
 public:
  // Creates dir (e.g. data/outbox) if needed. Throws std::filesystem::filesystem_error.
  explicit eml_writer(std::filesystem::path dir);

  // Writes rendered as <dir>/<safe_file_name(name)>.eml and returns the path.
  // Throws std::system_error on an I/O error (nothing is left behind then).
  std::filesystem::path write(std::string_view name, std::string_view rendered) const;

  // write() as a delivery attempt: sent, or retry with the error text.
  send_result deliver(std::string_view name, std::string_view rendered) const;

  const std::filesystem::path& dir() const { return dir_; }

 private:
  std::filesystem::path dir_;
};

// A file name from anything (a Message-ID, a dedupe key): letters, digits, '.', '-', '_' kept,
// everything else '_', no leading dot, at most 120 characters; "message" when nothing is left.
std::string safe_file_name(std::string_view name);

}  // namespace cohort::email

// Without an SMTP relay configured, messages are delivered as files: <dir>/<name>.eml, one per
// message, written atomically (a temporary file, fsync, rename) so a reader never sees half a
// message, even after a crash. Writing the same name again replaces the file, so a retried
// message stays one file. deliver_batch() writes many messages for two syncs' wait instead of two
// per message. Used by one thread at a time.
#pragma once

#include "email/retry.hpp"

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

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

  struct message {
    std::string_view name;
    std::string_view rendered;
  };
  // deliver() for each message, one result per message in the same order. Every file is written
  // and fsynced (the fsyncs run side by side on up to max_sync_threads threads, so the file
  // system shares journal commits between them), then renamed into place, then the directory is
  // synced once: a result says sent only once its file and directory entry are durable. A
  // message's own failure (create, write, sync, rename) fails it alone; a failed directory sync
  // fails every message that had been renamed. Nothing but .eml files is left behind. Two
  // messages with the same name in one batch: the later one wins.
  std::vector<send_result> deliver_batch(const std::vector<message>& messages) const;

  static constexpr std::size_t max_sync_threads = 32;

  const std::filesystem::path& dir() const { return dir_; }

 private:
  std::filesystem::path dir_;
};

// A file name from anything (a Message-ID, a dedupe key): letters, digits, '.', '-', '_' kept,
// everything else '_', no leading dot, at most 120 characters; "message" when nothing is left.
std::string safe_file_name(std::string_view name);

}  // namespace cohort::email

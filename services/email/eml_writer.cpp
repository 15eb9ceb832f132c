#include "email/eml_writer.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <optional>
#include <system_error>
#include <thread>
#include <utility>

namespace cohort::email {
namespace {

constexpr std::size_t max_name = 120;

class file_descriptor {
 public:
  explicit file_descriptor(int fd) : fd_(fd) {}
  ~file_descriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  file_descriptor(file_descriptor&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  file_descriptor& operator=(file_descriptor&& other) noexcept {
    if (this != &other) {
      if (fd_ >= 0) ::close(fd_);
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  file_descriptor(const file_descriptor&) = delete;
  file_descriptor& operator=(const file_descriptor&) = delete;
  int get() const { return fd_; }
  // close() reports late write errors (NFS, quota), so it is checked, not left to the destructor.
  int release_and_close() {
    const int rc = ::close(fd_);
    fd_ = -1;
    return rc;
  }

 private:
  int fd_;
};

[[noreturn]] void throw_errno(const std::string& what) { throw std::system_error(errno, std::generic_category(), what); }

void write_all(int fd, std::string_view bytes, const std::string& what) {
  while (!bytes.empty()) {
    const auto n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw_errno(what);
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
}

std::string errno_text(const std::string& what) { return what + ": " + std::strerror(errno); }

std::atomic<unsigned> temp_counter{0};

// Dot-prefixed, so a tool picking up *.eml never takes a file still being written.
std::filesystem::path temp_path(const std::filesystem::path& dir, std::string_view name) {
  return dir / ("." + safe_file_name(name) + ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(temp_counter++));
}

// One message of a batch on its way: its temporary file, open until synced and closed.
struct staged_file {
  std::filesystem::path tmp;
  std::filesystem::path target;
  file_descriptor fd{-1};
  std::string error;  // empty while all went well
  bool renamed = false;
};

// fsync of every staged file, side by side: on a journaling file system concurrent fsyncs share
// one commit (and one device flush), where a loop of them pays one each.
void sync_all(std::vector<staged_file>& files) {
  std::atomic<std::size_t> next{0};
  auto work = [&] {
    for (std::size_t i; (i = next++) < files.size();) {
      auto& f = files[i];
      if (f.error.empty() && ::fsync(f.fd.get()) != 0) f.error = errno_text("cannot sync " + f.tmp.string());
    }
  };
  if (files.empty()) return;
  std::vector<std::jthread> helpers;
  const auto wanted = std::min(files.size(), eml_writer::max_sync_threads) - 1;
  try {
    for (std::size_t i = 0; i < wanted; ++i) helpers.emplace_back(work);
  } catch (const std::system_error&) {
    // No more threads to be had: the ones started and this one share the work all the same.
  }
  work();
}

}  // namespace

eml_writer::eml_writer(std::filesystem::path dir) : dir_(std::move(dir)) { std::filesystem::create_directories(dir_); }

std::filesystem::path eml_writer::write(std::string_view name, std::string_view rendered) const {
  const auto target = dir_ / (safe_file_name(name) + ".eml");
  const auto tmp = temp_path(dir_, name);
  try {
    file_descriptor fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
    if (fd.get() < 0) throw_errno("cannot create " + tmp.string());
    write_all(fd.get(), rendered, "cannot write " + tmp.string());
    if (::fsync(fd.get()) != 0) throw_errno("cannot sync " + tmp.string());
    if (fd.release_and_close() != 0) throw_errno("cannot close " + tmp.string());
    if (::rename(tmp.c_str(), target.c_str()) != 0) throw_errno("cannot rename to " + target.string());
    // The rename itself is durable only once the directory is synced.
    file_descriptor dir(::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (dir.get() >= 0) ::fsync(dir.get());
  } catch (...) {
    std::error_code ignored;
    std::filesystem::remove(tmp, ignored);
    throw;
  }
  return target;
}

send_result eml_writer::deliver(std::string_view name, std::string_view rendered) const {
  try {
    write(name, rendered);
    return {send_outcome::sent, 0, {}};
  } catch (const std::exception& e) {
    return {send_outcome::retry, 0, e.what()};
  }
}

std::vector<send_result> eml_writer::deliver_batch(const std::vector<message>& messages) const {
  std::vector<staged_file> files;
  files.reserve(messages.size());
  for (const auto& m : messages) {
    auto& f = files.emplace_back();
    f.tmp = temp_path(dir_, m.name);
    f.target = dir_ / (safe_file_name(m.name) + ".eml");
    f.fd = file_descriptor(::open(f.tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
    if (f.fd.get() < 0) {
      f.error = errno_text("cannot create " + f.tmp.string());
      continue;
    }
    try {
      write_all(f.fd.get(), m.rendered, "cannot write " + f.tmp.string());
    } catch (const std::exception& e) {
      f.error = e.what();
    }
#ifdef SYNC_FILE_RANGE_WRITE
    // Starts the write-back now, so the device sees the batch's data in one go before the fsyncs.
    if (f.error.empty()) (void)::sync_file_range(f.fd.get(), 0, 0, SYNC_FILE_RANGE_WRITE);
#endif
  }
  sync_all(files);
  bool any_renamed = false;
  for (auto& f : files) {
    if (f.fd.get() >= 0 && f.fd.release_and_close() != 0 && f.error.empty())
      f.error = errno_text("cannot close " + f.tmp.string());
    if (f.error.empty() && ::rename(f.tmp.c_str(), f.target.c_str()) != 0)
      f.error = errno_text("cannot rename to " + f.target.string());
    f.renamed = f.error.empty();
    any_renamed = any_renamed || f.renamed;
    if (!f.renamed) {
      std::error_code ignored;
      std::filesystem::remove(f.tmp, ignored);
    }
  }
  // The renames are durable only once the directory is synced: once for the whole batch.
  if (any_renamed) {
    file_descriptor dir(::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (dir.get() < 0 || ::fsync(dir.get()) != 0) {
      const auto error = errno_text("cannot sync the directory " + dir_.string());
      for (auto& f : files)
        if (f.renamed) f.error = error;  // the file stays; the retry replaces it
    }
  }
  std::vector<send_result> results;
  results.reserve(files.size());
  for (auto& f : files)
    results.push_back(f.error.empty() ? send_result{send_outcome::sent, 0, {}} : send_result{send_outcome::retry, 0, std::move(f.error)});
  return results;
}

std::string safe_file_name(std::string_view name) {
  std::string out;
  for (const char c : name) {
    if (out.size() == max_name) break;
    const bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                      c == '-' || c == '_';
    out += keep ? c : '_';
  }
  // No hidden files, and never "." or "..".
  while (!out.empty() && out.front() == '.') out.erase(out.begin());
  return out.empty() ? "message" : out;
}

}  // namespace cohort::email

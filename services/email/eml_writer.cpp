#include "email/eml_writer.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <system_error>

namespace cohort::email {
namespace {

constexpr std::size_t max_name = 120;

class file_descriptor {
 public:
  explicit file_descriptor(int fd) : fd_(fd) {}
  ~file_descriptor() {
    if (fd_ >= 0) ::close(fd_);
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

}  // namespace

eml_writer::eml_writer(std::filesystem::path dir) : dir_(std::move(dir)) { std::filesystem::create_directories(dir_); }

std::filesystem::path eml_writer::write(std::string_view name, std::string_view rendered) const {
  static std::atomic<unsigned> counter{0};
  const auto target = dir_ / (safe_file_name(name) + ".eml");
  // Dot-prefixed, so a tool picking up *.eml never takes a file still being written.
  const auto tmp = dir_ / ("." + safe_file_name(name) + ".tmp-" + std::to_string(::getpid()) + "-" +
                           std::to_string(counter++));
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

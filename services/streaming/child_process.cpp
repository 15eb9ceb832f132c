#include "streaming/child_process.hpp"

#include <boost/asio/read.hpp>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <system_error>

namespace cohort::streaming {

namespace {

// What a child may know of the server's environment: enough to run, no secret. Cohort's own
// environment can hold COHORT_ADMIN_TOKEN or COHORT_SMTP_PASSWORD, readable in /proc/<pid>/environ.
std::vector<std::string> child_environment() {
  const char* path = std::getenv("PATH");
  return {std::string("PATH=") + (path && *path ? path : "/usr/local/bin:/usr/bin:/bin"), "LANG=C", "LC_ALL=C"};
}

}  // namespace

std::shared_ptr<child_process> child_process::start(boost::asio::any_io_executor executor, const std::vector<std::string>& argv,
                                                    line_handler on_stderr, exit_handler on_exit) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) throw std::system_error(errno, std::generic_category(), "pipe");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  // stdin from /dev/null (ffmpeg reads keys from a tty otherwise), stdout discarded, stderr to us.
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, fds[1], 2);
  // Nothing else of ours: descriptors opened without O_CLOEXEC (a library's, an ifstream's) would
  // otherwise reach the child — the database, listening sockets, connections.
  posix_spawn_file_actions_addclosefrom_np(&actions, 3);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const auto env = child_environment();
  std::vector<char*> envp;
  for (const auto& e : env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  pid_t pid = 0;
  const int rc = ::posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  ::close(fds[1]);
  if (rc != 0) {
    ::close(fds[0]);
    throw std::system_error(rc, std::generic_category(), "cannot start " + argv.front());
  }
  auto self = std::make_shared<child_process>(private_tag{}, std::move(executor), pid, fds[0], std::move(on_stderr), std::move(on_exit));
  self->do_read();
  return self;
}

child_process::child_process(private_tag, boost::asio::any_io_executor executor, pid_t pid, int stderr_fd,
                             line_handler on_stderr, exit_handler on_exit)
    : stderr_(executor, stderr_fd), kill_timer_(executor), patience_timer_(executor), pid_(pid), on_stderr_(std::move(on_stderr)), on_exit_(std::move(on_exit)) {}

child_process::~child_process() {
  if (exited_) return;
  // Last owner gone while it still runs: do not leave it behind (nor a zombie).
  ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
}

void child_process::stop(std::chrono::milliseconds grace) {
  if (exited_) return;
  ::kill(pid_, SIGTERM);
  kill_timer_.expires_after(grace);
  kill_timer_.async_wait([weak = weak_from_this()](boost::system::error_code ec) {
    auto self = weak.lock();
    if (!ec && self && !self->exited_) ::kill(self->pid_, SIGKILL);
  });
}

void child_process::stop_after(std::chrono::milliseconds patience) {
  if (exited_) return;
  patience_timer_.expires_after(patience);
  patience_timer_.async_wait([weak = weak_from_this()](boost::system::error_code ec) {
    if (auto self = weak.lock(); self && !ec) self->stop();
  });
}

void child_process::do_read() {
  stderr_.async_read_some(boost::asio::buffer(buf_), [self = shared_from_this()](boost::system::error_code ec, std::size_t n) {
    if (ec) return self->on_eof();
    self->partial_.append(self->buf_, n);
    std::size_t start = 0;
    for (auto nl = self->partial_.find('\n'); nl != std::string::npos; nl = self->partial_.find('\n', start)) {
      auto line = self->partial_.substr(start, nl - start);
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (self->on_stderr_ && !line.empty()) self->on_stderr_(line);
      start = nl + 1;
    }
    self->partial_.erase(0, start);
    if (self->partial_.size() > 64 * 1024) self->partial_.clear();  // a runaway line is not kept
    self->do_read();
  });
}

// stderr closes when the process ends (it holds the only write end).
void child_process::on_eof() {
  int status = 0;
  ::waitpid(pid_, &status, 0);
  exited_ = true;
  kill_timer_.cancel();
  patience_timer_.cancel();
  if (!partial_.empty() && on_stderr_) on_stderr_(partial_);
  if (auto done = std::move(on_exit_)) done(status);
}

}  // namespace cohort::streaming

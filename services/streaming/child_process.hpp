// A supervised child process (ffmpeg): started with posix_spawn, its stderr read line by line
// on the io_context and handed to a callback (the log), its exit reported once. The object
// owns the process: destroying or stop()ping it sends SIGTERM, then SIGKILL after a grace
// period, so no ffmpeg outlives the server. The child gets a minimal environment (PATH, LANG and
// LC_ALL=C; nothing inherited such as COHORT_ADMIN_TOKEN) and only descriptors 0, 1 and 2.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace cohort::streaming {

class child_process : public std::enable_shared_from_this<child_process> {
 public:
  using line_handler = std::function<void(const std::string& line)>;
  using exit_handler = std::function<void(int status)>;  // waitpid status

  // Throws std::system_error when the program cannot be started.
  static std::shared_ptr<child_process> start(boost::asio::any_io_executor executor, const std::vector<std::string>& argv,
                                              line_handler on_stderr, exit_handler on_exit);
  ~child_process();
  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;

  // SIGTERM now, SIGKILL after `grace` if it has not exited. Safe to call more than once.
  void stop(std::chrono::milliseconds grace = std::chrono::milliseconds(2000));
  // Lets it finish on its own (ffmpeg uploads its last segment after its input ended); stop()
  // only if it is still running after `patience`.
  void stop_after(std::chrono::milliseconds patience);
  pid_t pid() const { return pid_; }
  bool running() const { return !exited_; }

  struct private_tag {};
  child_process(private_tag, boost::asio::any_io_executor executor, pid_t pid, int stderr_fd, line_handler on_stderr,
                exit_handler on_exit);

 private:
  void do_read();
  void on_eof();

  boost::asio::posix::stream_descriptor stderr_;
  boost::asio::steady_timer kill_timer_;
  boost::asio::steady_timer patience_timer_;
  pid_t pid_;
  line_handler on_stderr_;
  exit_handler on_exit_;
  std::string partial_;
  char buf_[4096];
  bool exited_ = false;
};

}  // namespace cohort::streaming
